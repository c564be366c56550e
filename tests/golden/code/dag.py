def forward(self, input, *, outputs=None):
    if outputs is not None:
        return self._forward_outputs(outputs, input)
    try:
        input_1 = input
        conv1 = self.conv1(input_1)
        relu1 = self.relu1(conv1);  conv1 = None
        conv2 = self.conv2(relu1)
        add = conv2 + relu1;  conv2 = relu1 = None
        skip = self.skip(input_1);  input_1 = None
        cat = torch.cat((add, skip), 1);  add = skip = None
        pool = self.pool(cat);  cat = None
        fc_flatten = torch.flatten(pool, 1);  pool = None
        fc = self.fc(fc_flatten);  fc_flatten = None
        return fc
    except Exception as error:
        return self._forward_failed(error, (input, ))
