SEQUENCE = "input = sequenceInput(8)"
FIXED = "input = sequenceInput(8, length=7)"
# A sequence of word indices: the shape test feeds an input layer that feeds a word embedding
# whole numbers from 1 to its vocabulary.
WORDS = "input = sequenceInput(1)"

CASES = {
    "lstm": [
        f"{SEQUENCE}\n l = lstm(16)",
        f'{FIXED}\n l = lstm(5, outputMode="last")',
        f'{SEQUENCE}\n l = lstm(4, inputWeightsInitializer="he", recurrentWeightsInitializer="glorot", biasInitializer="narrow-normal")',
        f'{SEQUENCE}\n l = lstm(16)\n a = selfAttention(4, 16)\n last = lstm(8, outputMode="last")\n f = fullyConnected(3)\n s = softmax()',
    ],
    "bilstm": [
        f"{SEQUENCE}\n b = bilstm(6)",
        f'{FIXED}\n b = bilstm(5, outputMode="last")\n f = fullyConnected(2)',
        f"{SEQUENCE}\n b = bilstm(3)\n c = bilstm(3)\n add = addition()\n input -> b -> add/in1\n b -> c -> add/in2",
    ],
    "gru": [
        f"{SEQUENCE}\n g = gru(7)",
        f'{FIXED}\n g = gru(3, outputMode="last")',
        f'{SEQUENCE}\n g = gru(5, inputWeightsInitializer="orthogonal", biasInitializer="ones")\n l = lstm(2)',
    ],
    "wordEmbedding": [
        f"{WORDS}\n e = wordEmbedding(4, 10)",
        'input = sequenceInput(1, length=6)\n e = wordEmbedding(3, 20, oovMode="error", weightsInitializer="glorot")\n l = lstm(5, outputMode="last")',
    ],
}
