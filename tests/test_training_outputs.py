"""Outputs computed only in training (issue 13, point 4: Inception-v3's auxiliary classifier):
`output aux if training` in a network."""

from __future__ import annotations

import torch

import graphdl

AUXILIARY = """
network inceptionish {
    input    = imageInput([16, 16, 3], normalization="none")
    conv     = convolution2d(3, 8, padding=1)
    act      = relu()
    pool     = globalAveragePooling2d()
    fc       = fullyConnected(4)
    prob     = softmax()
    aux_pool = averagePooling2d(4, stride=4)
    aux_conv = convolution2d(1, 4)
    aux_gap  = globalAveragePooling2d()
    aux_fc   = fullyConnected(4)
    aux_prob = softmax()
    input -> conv -> act -> pool -> fc -> prob
    act -> aux_pool -> aux_conv -> aux_gap -> aux_fc -> aux_prob
    output prob
    output aux_prob if training
}
"""


def test_training_computes_the_auxiliary_output_and_evaluation_leaves_it_out():
    graph = graphdl.loads(AUXILIARY)
    assert graph.output_names == ("prob", "aux_prob") and graph.training_outputs == ("aux_prob",)
    net = graphdl.dlnetwork(graph, seed=0)
    x = torch.rand(2, 3, 16, 16)
    net.train()
    main, aux = net(x)
    net.eval()
    evaluated = net(x)
    assert isinstance(evaluated, torch.Tensor) and evaluated.shape == main.shape == aux.shape == (2, 4)
    # Evaluation runs only what the main output needs: the auxiliary head's layers are not in it.
    assert "aux_conv" not in net._variant(("prob",)).code
    assert len(net(x, outputs=["prob", "aux_prob"])) == 2  # asked for, in evaluation too


def test_the_declaration_prints_summarises_and_exports():
    graph = graphdl.loads(AUXILIARY)
    text = graphdl.to_dlg(graph)
    assert "    output prob\n    output aux_prob if training\n" in text
    assert graphdl.loads(text) == graph
    assert graphdl.format_dlg(AUXILIARY).count("output aux_prob if training") == 1
    assert "2 outputs (prob, aux_prob in training only)" in graphdl.summary(graph)
    net = graphdl.dlnetwork(graph, seed=0)
    namespace: dict = {}
    exec(graphdl.to_python(net), namespace)
    model = namespace["Inceptionish"]()
    model.load_state_dict(net.state_dict())
    x = torch.rand(3, 3, 16, 16)
    for mode in (True, False):
        model.train(mode)
        net.train(mode)
        ours, theirs = net(x), model(x)
        if mode:
            assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
        else:
            assert torch.equal(ours, theirs)


def test_trainnet_takes_the_auxiliary_loss_in_training_and_validation():
    graph = graphdl.loads(AUXILIARY)
    net = graphdl.dlnetwork(graph, seed=0)
    generator = torch.Generator().manual_seed(0)
    X, T = torch.rand(64, 3, 16, 16, generator=generator), torch.randint(0, 4, (64,), generator=generator)

    def loss(main, aux, targets, aux_targets):  # torchvision's Inception-v3 recipe: the auxiliary loss weighted 0.4
        return graphdl.crossentropy(main, targets) + 0.4 * graphdl.crossentropy(aux, aux_targets)

    # One target per output, as for any network of several outputs: the same classes twice.
    options = graphdl.training_options("adam", max_epochs=2, mini_batch_size=16, validation_data=(X, (T, T)), validation_frequency=2, verbose=False)
    _, info = graphdl.trainnet(X, (T, T), net, loss, options)
    assert info.iterations == 8
    iterations, losses = info.history["validation loss"]
    assert iterations == [2, 4, 6, 8] and all(0 < value < 10 for value in losses)
    # Validated as trained: both outputs, though the network runs in evaluation mode then.
    assert "validation aux_prob accuracy" in info.history
