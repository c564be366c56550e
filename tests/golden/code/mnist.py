def forward(self, input, *, outputs=None):
    if outputs is not None:
        return self._forward_outputs(outputs, input)
    try:
        input_1 = input
        input_mean = self.input.mean
        input_2 = input_1 - input_mean;  input_1 = input_mean = None
        conv1 = self.conv1(input_2);  input_2 = None
        bn1 = self.bn1(conv1);  conv1 = None
        relu1 = self.relu1(bn1);  bn1 = None
        pool1 = self.pool1(relu1);  relu1 = None
        fc_flatten = torch.flatten(pool1, 1);  pool1 = None
        fc = self.fc(fc_flatten);  fc_flatten = None
        prob = self.prob(fc);  fc = None
        return prob
    except Exception as error:
        return self._forward_failed(error, (input, ))
