def forward(self, input):
    input_1 = input
    input_2 = self.input(input_1);  input_1 = None
    conv1 = self.conv1(input_2);  input_2 = None
    bn1 = self.bn1(conv1);  conv1 = None
    relu1 = self.relu1(bn1);  bn1 = None
    pool1 = self.pool1(relu1);  relu1 = None
    fc = self.fc(pool1);  pool1 = None
    prob = self.prob(fc);  fc = None
    return prob
