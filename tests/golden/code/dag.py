def forward(self, input):
    input_1 = input
    conv1 = self.conv1(input_1)
    relu1 = self.relu1(conv1);  conv1 = None
    conv2 = self.conv2(relu1)
    add = self.add(conv2, relu1);  conv2 = relu1 = None
    skip = self.skip(input_1);  input_1 = None
    cat = self.cat(add, skip);  add = skip = None
    pool = self.pool(cat);  cat = None
    fc = self.fc(pool);  pool = None
    return fc
