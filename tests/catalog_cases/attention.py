from catalog_cases.sequence import SEQUENCE, WORDS

CASES = {
    "selfAttention": [
        f"{SEQUENCE}\n a = selfAttention(2, 8)",
        'input = sequenceInput(6, length=5)\n a = selfAttention(3, 12, numValueChannels=6, outputSize=4, attentionMask="causal", dropoutProbability=0.1)',
        f"{SEQUENCE}\n l = lstm(16)\n a = selfAttention(4, 16)\n add = addition()\n input -> l -> a -> add/in1\n l -> add/in2",
    ],
    "positionEmbedding": [
        f"{SEQUENCE}\n p = positionEmbedding(8, 10)\n add = addition()\n input -> p -> add/in1\n input -> add/in2",
        'input = sequenceInput(4, length=6)\n p = positionEmbedding(3, 6, weightsInitializer="glorot")',
        # A small transformer on words: embeddings plus positions, causal attention, the last step.
        (
            f'{WORDS}\n e = wordEmbedding(8, 50)\n p = positionEmbedding(8, 16)\n add = addition()\n a = selfAttention(2, 8, attentionMask="causal")\n'
            f' l = lstm(4, outputMode="last")\n input -> e -> add/in1\n e -> p -> add/in2\n add -> a -> l'
        ),
    ],
    "sinusoidalPositionEncoding": [
        f"{SEQUENCE}\n s = sinusoidalPositionEncoding(8)\n add = addition()\n input -> s -> add/in1\n input -> add/in2",
        "input = sequenceInput(3, length=4)\n s = sinusoidalPositionEncoding(10)",
    ],
}
