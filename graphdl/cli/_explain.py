"""`graphdl explain CODE`: the long form of each diagnostic, as `rustc --explain` gives it.

An `Explanation` per code of `graphdl.diagnostics.CODES`: what the code means, why graphdl reports
it and how to fix it, with a minimal `.dlg` that makes the mistake and the same file fixed. The
diagnostics shown for the example are not copied here: `explain` checks the example and renders
what graphdl really says about it, so they cannot drift from the checker. Codes that no single file
can produce (an unreadable file, a missing import, an import cycle, the Python editing API) are
explained in words, without an example.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

from graphdl.diagnostics import CODES, render

WIDTH = 80
EXAMPLE_PATH = "example.dlg"


@dataclass(frozen=True)
class Explanation:
    """The long form of one diagnostic code. `mistake` is a complete `.dlg` whose first diagnostic
    has this code and `fix` the same file corrected; both are None where one file cannot show it."""

    code: str
    title: str
    text: str
    mistake: str | None = None
    fix: str | None = None


def _explanation(code: str, text: str, mistake: str | None = None, fix: str | None = None) -> Explanation:
    def dedent(dlg: str | None) -> str | None:
        return None if dlg is None else textwrap.dedent(dlg).strip("\n") + "\n"

    return Explanation(code, CODES.get(code, ""), " ".join(text.split()), dedent(mistake), dedent(fix))


_EXPLANATIONS = [
    # ---- E0xx: files ------------------------------------------------------------------------------
    _explanation(
        "E001",
        """graphdl could not read the file it was given, or could not write the one asked for: the
        path does not exist, is a folder, is not readable or writable, a `.dlg` text is not UTF-8,
        a network or weights file is damaged, or a network cannot be written in the form asked (as
        Python, or as TorchScript). The message gives the reason. Nothing in a file that could not be
        read was checked. Check the path (it is relative to the folder the command runs in), its
        permissions, and that the file is what the command takes.""",
    ),
    _explanation(
        "E002",
        """graphdl needs one network to check, summarise, draw or train, and the file does not say
        which: it defines none, or several. A file with no network but blocks is only a warning,
        since such a file is meant to be imported. Where the file defines no network, write one:
        `network name { ... }`. Where it defines several, name the one to use: `--network NAME` on
        the command line, `graphdl.load(path, network="NAME")` in Python.""",
        """
        # A classifier for 28x28 digit images, still to be written.
        """,
        """
        # A classifier for 28x28 digit images.
        network digits {
            input = imageInput([28, 28, 1])
            fc    = fullyConnected(10)
            prob  = softmax()
        }
        """,
    ),
    _explanation(
        "E003",
        """An `import "path.dlg"` names a file that cannot be read: it does not exist, or is not
        readable. The path of an import is relative to the importing file, not to the folder the
        command runs in; the label says where graphdl looked. Fix the path, or create the file.""",
    ),
    _explanation(
        "E004",
        """Two or more files import each other, directly or through others: `a.dlg` imports `b.dlg`,
        which imports `a.dlg`. Each file must be complete before another can use what it defines, so
        a cycle of imports has no order to load them in; the message lists the files around the
        cycle. Move what both files need into a third file, and import that from both.""",
    ),
    _explanation(
        "E005",
        """Two definitions have the same name: two networks or blocks of one file, one defined here
        and one imported, or two `let` constants of one body. A block cannot take the name of a
        layer kind either. graphdl keeps the first definition and reports the others, since a name
        must say which definition it means. Rename one of them, and the places that use it.""",
        """
        block convbn(channels) {
            conv = convolution2d(3, channels, padding="same")
            bn   = batchNormalization()
        }

        block convbn(channels) {
            conv = convolution2d(3, channels, stride=2, padding="same")
            bn   = batchNormalization()
        }

        network n {
            input = imageInput([28, 28, 1])
            a     = convbn(8)
        }
        """,
        """
        block convbn(channels) {
            conv = convolution2d(3, channels, padding="same")
            bn   = batchNormalization()
        }

        block convbn_down(channels) {
            conv = convolution2d(3, channels, stride=2, padding="same")
            bn   = batchNormalization()
        }

        network n {
            input = imageInput([28, 28, 1])
            a     = convbn(8)
            b     = convbn_down(16)
        }
        """,
    ),
    # ---- E1xx: syntax ----------------------------------------------------------------------------
    _explanation(
        "E101",
        """The text does not follow the grammar of a `.dlg` file: a missing `,` between arguments, a
        bracket never closed, two statements on one line, a character the language does not use.
        graphdl says what it found and what it expected there, reports each broken statement once
        and goes on checking the rest of the file. Each statement takes its own line; line breaks
        are free inside `(...)` and `[...]`; arguments are separated by `,`.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            pool1 = maxPooling2d(2, stride=2 padding=0)
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            pool1 = maxPooling2d(2, stride=2, padding=0)
        }
        """,
    ),
    # ---- E2xx: names and arguments ---------------------------------------------------------------
    _explanation(
        "E201",
        """A layer is declared `name = kind(arguments)`, and `kind` is neither a layer kind nor a
        block defined in (or imported into) this file. Kinds are MATLAB's, spelt as graphdl spells
        them, and names are case-sensitive. Correct the spelling (graphdl suggests the nearest
        name), define the block, or import the file that defines it; `graphdl layers` lists every
        layer kind.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2D(5, 20, padding="same")
            relu1 = relu()
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20, padding="same")
            relu1 = relu()
        }
        """,
    ),
    _explanation(
        "E202",
        """A `name=value` argument names no argument of the layer kind or block it is given to.
        Argument names are MATLAB's, case-sensitive. Correct the spelling (graphdl suggests the
        nearest), or remove the argument; `graphdl layers` lists each kind's arguments.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20, pading="same")
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20, padding="same")
        }
        """,
    ),
    _explanation(
        "E203",
        """An argument has a value of the wrong type: a string where a number is expected, a list of
        the wrong length, a number where a list is expected. The message says what the argument
        expects and what it found. Give a value of the expected type: a window or stride of a 2-D
        layer is one positive integer, or a list of two (height and width).""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            pool1 = maxPooling2d(2, stride=[2, 2, 2])
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            pool1 = maxPooling2d(2, stride=[2, 2])
        }
        """,
    ),
    _explanation(
        "E204",
        """A layer or block is given more positional arguments than it takes. Only the first
        arguments of a kind are positional (those MATLAB's functions take in order, such as
        `convolution2d(filterSize, numFilters)`); the others must be named. Name the extra
        argument: `stride=2`, not `2`.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20, 2)
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20, stride=2)
        }
        """,
    ),
    _explanation(
        "E205",
        """A layer or block is missing an argument that has no default, such as the number of
        filters of a convolution or the output size of a fully connected layer. graphdl cannot
        choose a value for it, as MATLAB's layer functions cannot. Give it, by position or by name;
        `graphdl layers` shows which arguments each kind requires.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5)
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20)
        }
        """,
    ),
    _explanation(
        "E206",
        """One argument is given twice: by position and by name, or twice by name. graphdl does not
        guess which one was meant. Keep one of them.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(3, 16, filterSize=5)
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 16)
        }
        """,
    ),
    _explanation(
        "E207",
        """An argument has a value of the right type but outside the values it allows: a count of
        0 or less, a probability of 1 or more, a string that is not one of the choices. The
        message says what was expected and what was found. Where the value comes from a block's
        argument, graphdl points at the argument given to the instance, and at the layer that
        uses it. Give a value in range.""",
        """
        network mnist {
            input = featureInput(10)
            fc    = fullyConnected(10)
            drop  = dropout(1.5)
        }
        """,
        """
        network mnist {
            input = featureInput(10)
            fc    = fullyConnected(10)
            drop  = dropout(0.5)
        }
        """,
    ),
    _explanation(
        "E210",
        """Two layers of one network have the same name. A layer's name is how the arrows, the
        summary and the compiled network (`net.conv1`) find it, so each must be unique; this
        includes the layers of block instances (`stem.conv`), and a dotted name that would put a
        layer inside another. Give each layer its own name.""",
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(3, 8, padding="same")
            relu1 = relu()
            conv1 = convolution2d(3, 16, padding="same")
            relu2 = relu()
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(3, 8, padding="same")
            relu1 = relu()
            conv2 = convolution2d(3, 16, padding="same")
            relu2 = relu()
        }
        """,
    ),
    _explanation(
        "E211",
        """An arrow, or a network's `output` statement, names a layer that the network (or block)
        does not declare. Every layer an arrow connects must be declared, `name = kind(...)`, in the
        same body, or in place, in the chain: `a -> relu() -> b`. Where the name is misspelt, graphdl suggests the nearest; where it is
        not, declare the layer.""",
        """
        network classifier {
            input  = featureInput(8)
            hidden = fullyConnected(16)
            act    = relu()
            input -> hidden -> act -> scores
        }
        """,
        """
        network classifier {
            input  = featureInput(8)
            hidden = fullyConnected(16)
            act    = relu()
            scores = fullyConnected(3)
            input -> hidden -> act -> scores
        }
        """,
    ),
    _explanation(
        "E212",
        """An arrow names a port, `layer/port`, that the layer does not have on that side. An
        addition of two inputs has the input ports `in1` and `in2`; most layers have one input and
        one output. The note lists the layer's ports. Use one of them, or give the layer more
        inputs (`addition(3)`).""",
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            fc2   = fullyConnected(8)
            add   = addition(2)
            input -> fc1 -> add/in1
            input -> fc2 -> add/in3
        }
        """,
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            fc2   = fullyConnected(8)
            add   = addition(2)
            input -> fc1 -> add/in1
            input -> fc2 -> add/in2
        }
        """,
    ),
    _explanation(
        "E213",
        """An arrow ends (or starts) at a layer that has several inputs (or outputs), without saying
        which. graphdl does not pick one: the order of the inputs of a concatenation, for one,
        matters. Name the port: `add/in1`, `add/in2`.""",
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            add   = addition(2)
            input -> fc1 -> add
            input -> add/in2
        }
        """,
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            add   = addition(2)
            input -> fc1 -> add/in1
            input -> add/in2
        }
        """,
    ),
    _explanation(
        "E215",
        """`LayerGraph.replace_layer(name, *layers)`, in Python, was asked to replace a layer by
        layers that cannot take its connections: the layer has more connected inputs than the
        first new layer has input ports (replacing an addition of two inputs by a `relu`, say).
        The graph is left unchanged. No `.dlg` file can cause this. Replace the layer by one with
        enough inputs, or disconnect the inputs it cannot take first (`graph.disconnect(...)`).""",
    ),
    _explanation(
        "E216",
        """A layer's name becomes an attribute of the compiled network (`net.conv1`) and appears in
        its generated code, so it must be a Python identifier that is not a Python keyword (`class`,
        `lambda`), does not start with `_`, and does not hide an attribute of the network, such as
        `forward`, `predict`, `train` or `state`. A dotted name, `stage.1.conv`, follows these rules
        in each part. Rename the layer.""",
        """
        network mnist {
            input   = featureInput(10)
            fc      = fullyConnected(10)
            predict = softmax()
        }
        """,
        """
        network mnist {
            input = featureInput(10)
            fc    = fullyConnected(10)
            prob  = softmax()
        }
        """,
    ),
    _explanation(
        "E217",
        """An expression uses a name that is not defined where it is used: not a `let` constant, a
        parameter of the network or block, nor a repetition's index; or calls a function graphdl
        does not have (the functions are `min`, `max`, `floor`, `ceil`, `round` and `abs`). A
        string is written in quotes: `padding="same"`, not `padding=same`. Correct the spelling
        (graphdl suggests the nearest name), or define the name with `let` or as a parameter.""",
        """
        network n(width = 16) {
            input = featureInput(8)
            fc    = fullyConnected(widht * 2)
        }
        """,
        """
        network n(width = 16) {
            input = featureInput(8)
            fc    = fullyConnected(width * 2)
        }
        """,
    ),
    _explanation(
        "E218",
        """An expression cannot be evaluated: a division by zero, arithmetic on a string or a list,
        a comparison of values that do not compare, a condition that is not `true` or `false`, or a
        repetition `for i in first..last` whose bounds are not whole numbers with `last >= first`.
        The message says what went wrong and the caret points at the part at fault. Correct the
        expression: `for i in 1..3` declares three, numbered 1, 2 and 3.""",
        """
        block unit(channels) {
            fc  = fullyConnected(channels)
            act = relu()
        }

        network n {
            input = featureInput(8)
            stage = unit(16) for i in 3..1
        }
        """,
        """
        block unit(channels) {
            fc  = fullyConnected(channels)
            act = relu()
        }

        network n {
            input = featureInput(8)
            stage = unit(16) for i in 1..3
        }
        """,
    ),
    _explanation(
        "E219",
        """An arrow names a layer inside a block instance, `instance.layer`. The layers of an
        instance are its own: from outside, it is wired through its ports, like a layer, so that a
        block can change inside without breaking the networks that use it. Connect to the instance
        (`a`, or `a/port` for a block of several inputs or outputs); to reach a layer inside, give
        the block an output for it.""",
        """
        block convbn(channels) {
            conv = convolution2d(3, channels, padding="same")
            bn   = batchNormalization()
        }

        network n {
            input = imageInput([28, 28, 1])
            a     = convbn(8)
            act   = relu()
            input -> a
            a.bn -> act
        }
        """,
        """
        block convbn(channels) {
            conv = convolution2d(3, channels, padding="same")
            bn   = batchNormalization()
        }

        network n {
            input = imageInput([28, 28, 1])
            a     = convbn(8)
            act   = relu()
            input -> a -> act
        }
        """,
    ),
    _explanation(
        "E220",
        """A block's ports are misused. Inside the block, an `input` port can only start a
        connection and an `output` port can only end one; an input cannot go straight to an output;
        a block wired with arrows must declare its `input` and `output` ports. A network has no
        `input` statement: its inputs are its input layers. Put the port on the other side of the
        arrow, connect an input to an output through a layer, and declare a network's inputs as
        layers: `image = imageInput([28, 28, 1])`.""",
        """
        block skip(channels) {
            input x
            output y
            conv = convolution2d(3, channels, padding="same")
            add  = addition()
            x -> conv -> add/in1
            y -> add/in2
            add -> y
        }

        network n {
            input = imageInput([28, 28, 8])
            s     = skip(8)
        }
        """,
        """
        block skip(channels) {
            input x
            output y
            conv = convolution2d(3, channels, padding="same")
            add  = addition()
            x -> conv -> add/in1
            x -> add/in2
            add -> y
        }

        network n {
            input = imageInput([28, 28, 8])
            s     = skip(8)
        }
        """,
    ),
    _explanation(
        "E221",
        """A block declares an `output` port that no arrow inside the block ends at, so an instance
        would have an output with nothing behind it. graphdl checks a block where a network uses
        it, and reports this at the port. Connect a layer to it (`some_layer -> name`), or remove
        the port from the `output` statement.""",
        """
        block two_heads(channels) {
            input x
            output features, scores
            conv = convolution2d(3, channels, padding="same")
            x -> conv -> features
        }

        network n {
            input = imageInput([28, 28, 1])
            heads = two_heads(8)
            input -> heads
        }
        """,
        """
        block two_heads(channels) {
            input x
            output features, scores
            conv = convolution2d(3, channels, padding="same")
            pool = globalAveragePooling2d()
            fc   = fullyConnected(10)
            x -> conv -> features
            conv -> pool -> fc -> scores
        }

        network n {
            input = imageInput([28, 28, 1])
            heads = two_heads(8)
            input -> heads
        }
        """,
    ),
    _explanation(
        "E222",
        """A warning, not an error: a block declares an `input` port that no arrow inside the block
        starts from, so whatever an instance receives there is ignored. The network still compiles,
        but this is most often a wiring mistake: an arrow that starts from another port than the
        one meant. Connect the port (`name -> some_layer`), or remove it from the `input`
        statement.""",
        """
        block mix(channels) {
            input x, shortcut
            output y
            conv = convolution2d(3, channels, padding="same")
            add  = addition()
            x -> conv -> add/in1
            x -> add/in2
            add -> y
        }

        network n {
            input = imageInput([28, 28, 8])
            proj  = convolution2d(1, 8)
            m     = mix(8)
            input -> m/x
            input -> proj -> m/shortcut
        }
        """,
        """
        block mix(channels) {
            input x, shortcut
            output y
            conv = convolution2d(3, channels, padding="same")
            add  = addition()
            x -> conv -> add/in1
            shortcut -> add/in2
            add -> y
        }

        network n {
            input = imageInput([28, 28, 8])
            proj  = convolution2d(1, 8)
            m     = mix(8)
            input -> m/x
            input -> proj -> m/shortcut
        }
        """,
    ),
    _explanation(
        "E223",
        """`name = call shares other` makes a layer (or a block instance) use the parameters of
        another instead of its own, so both must be of one layer kind (or one block), and `other`
        must be declared earlier and share nobody's parameters itself. graphdl found a `shares`
        that names a layer of another kind, a layer declared later, or one that shares in turn.
        Name the layer whose parameters are meant, of the same kind, declared before.""",
        """
        network siamese {
            left_input  = featureInput(8)
            right_input = featureInput(8)
            left        = fullyConnected(4)
            right       = fullyConnected(4) shares left_input
            left_input -> left
            right_input -> right
        }
        """,
        """
        network siamese {
            left_input  = featureInput(8)
            right_input = featureInput(8)
            left        = fullyConnected(4)
            right       = fullyConnected(4) shares left
            left_input -> left
            right_input -> right
        }
        """,
    ),
    _explanation(
        "E224",
        """A parameter of the network has no value: it has no default, and none was given. Or a
        value was given (`--set name=value`, `parameters={...}` in Python) for a parameter the
        network does not have. Give the parameter a default in the file, `network n(classes =
        10)`, or a value when checking (`--set classes=10`); check the spelling of the names set.""",
        """
        network n(classes) {
            input = featureInput(8)
            fc    = fullyConnected(classes)
        }
        """,
        """
        network n(classes = 10) {
            input = featureInput(8)
            fc    = fullyConnected(classes)
        }
        """,
    ),
    _explanation(
        "E225",
        """A block instantiates itself, directly or through another block, so expanding it would
        never end. A block is not a recursive function: graphdl has no condition that could stop
        the recursion. To repeat a block, declare its instances with a repetition in the network
        (or in another block): `name = block(arguments) for i in 1..n`.""",
        """
        block tower(depth) {
            fc   = fullyConnected(8)
            act  = relu()
            rest = tower(depth - 1)
        }

        network n {
            input = featureInput(8)
            t     = tower(3)
        }
        """,
        """
        block unit {
            fc  = fullyConnected(8)
            act = relu()
        }

        network n {
            input = featureInput(8)
            t     = unit() for i in 1..3
        }
        """,
    ),
    # ---- E3xx: structure -------------------------------------------------------------------------
    _explanation(
        "E301",
        """The arrows make a cycle: following them from a layer leads back to it, so no order of the
        layers computes each after its inputs. A network is a directed acyclic graph; the message
        lists the layers around the cycle. Remove one of its connections; a skip connection goes
        forward, from an earlier layer into an `addition` after the branch.""",
        """
        network loop {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            fc2   = fullyConnected(8)
            add   = addition(2)
            input -> add/in1
            add -> fc1 -> fc2 -> add/in2
        }
        """,
        """
        network loop {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            fc2   = fullyConnected(8)
            add   = addition(2)
            input -> add/in1
            input -> fc1 -> fc2 -> add/in2
        }
        """,
    ),
    _explanation(
        "E302",
        """An input port of a layer has no connection, so the layer has nothing to compute from. A
        body with arrows is wired by its arrows only, and a layer of several inputs, such as an
        addition or a concatenation, needs an arrow into each of its input ports. Connect it
        (`some_layer -> add/in2`), or declare the layer with fewer inputs.""",
        """
        network residual {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            add   = addition(2)
            input -> fc1 -> add/in1
        }
        """,
        """
        network residual {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            add   = addition(2)
            input -> fc1 -> add/in1
            input -> add/in2
        }
        """,
    ),
    _explanation(
        "E303",
        """An input port has two connections. A layer's input takes one tensor; graphdl does not add
        or concatenate them for you. To combine two branches, feed them to an `addition` or a
        `concatenation`, each by its own input port; otherwise, remove one of the connections.""",
        """
        network residual {
            input = featureInput(16)
            fc1   = fullyConnected(16)
            act   = relu()
            fc2   = fullyConnected(16)
            input -> fc1 -> act -> fc2
            input -> fc2
        }
        """,
        """
        network residual {
            input = featureInput(16)
            fc1   = fullyConnected(16)
            act   = relu()
            fc2   = fullyConnected(16)
            add   = addition()
            input -> fc1 -> act -> fc2 -> add/in1
            input -> add/in2
        }
        """,
    ),
    _explanation(
        "E304",
        """The network has no input layer, or no layers at all. The input layers say what data the
        network takes, and every other size is inferred from theirs. Start the network with an
        input layer:
        `imageInput([28, 28, 1])` for images (height, width, channels), `featureInput(10)` for
        feature vectors.""",
        """
        network headless {
            fc1  = fullyConnected(10)
            prob = softmax()
        }
        """,
        """
        network headless {
            input = featureInput(20)
            fc1   = fullyConnected(10)
            prob  = softmax()
        }
        """,
    ),
    _explanation(
        "E305",
        """An input layer has a connection into it. Input layers start a network: in a body without
        arrows, each layer feeds the next in the order declared, so an input layer declared after
        another layer would be fed by it; with arrows, no arrow may end at an input layer. Move the
        input layer to the top, or remove the connection into it.""",
        """
        network mnist {
            conv1 = convolution2d(5, 20)
            input = imageInput([28, 28, 1])
            relu1 = relu()
        }
        """,
        """
        network mnist {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(5, 20)
            relu1 = relu()
        }
        """,
    ),
    _explanation(
        "E306",
        """A warning, not an error: a layer's output feeds no other layer and is not an output of
        the network. Where the network declares its outputs (`output prob`), such a layer is
        computed for nothing; where it does not, a layer with several outputs that leaves one
        unused makes that one an output of the network. Either is most often a forgotten arrow.
        Connect the output to a layer, declare it an output (`output prob, angle`), or remove the
        layer.""",
        """
        network two_heads {
            image = imageInput([28, 28, 1])
            conv  = convolution2d(3, 8, padding="same")
            pool  = globalAveragePooling2d()
            digit = fullyConnected(10)
            prob  = softmax()
            angle = fullyConnected(1)
            output prob

            image -> conv -> pool -> digit -> prob
            pool -> angle
        }
        """,
        """
        network two_heads {
            image = imageInput([28, 28, 1])
            conv  = convolution2d(3, 8, padding="same")
            pool  = globalAveragePooling2d()
            digit = fullyConnected(10)
            prob  = softmax()
            angle = fullyConnected(1)
            output prob, angle

            image -> conv -> pool -> digit -> prob
            pool -> angle
        }
        """,
    ),
    _explanation(
        "E307",
        """A warning, not an error: a layer is declared but connected to nothing, so it is left out
        of the network. A body with arrows is wired by its arrows only, and no arrow starts or ends
        at this layer; the declaration alone does not place it in a chain. Connect it with arrows
        (`some_layer -> name`), or remove it.""",
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(16)
            act   = relu()
            fc2   = fullyConnected(3)
            input -> fc1 -> fc2
        }
        """,
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(16)
            act   = relu()
            fc2   = fullyConnected(3)
            input -> fc1 -> act -> fc2
        }
        """,
    ),
    # ---- E4xx: shapes ----------------------------------------------------------------------------
    _explanation(
        "E401",
        """A layer that combines several inputs gets inputs whose sizes do not fit together: an
        addition needs inputs of one size, a concatenation inputs that agree in every dimension but
        the one it concatenates along. graphdl infers every layer's output size from the input
        layers, and the labels show which size comes from where. Resize one branch so that the
        sizes meet: a fully connected layer's output size, a convolution's number of filters, a
        stride or a pooling layer.""",
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(16)
            add   = addition()
            input -> fc1 -> add/in1
            input -> add/in2
        }
        """,
        """
        network dag {
            input = featureInput(8)
            fc1   = fullyConnected(8)
            add   = addition()
            input -> fc1 -> add/in1
            input -> add/in2
        }
        """,
    ),
    _explanation(
        "E402",
        """A convolution or pooling window is larger than the image it slides over, padding
        included, so it has no position to take. Images shrink along a network (every pooling of
        stride 2 halves them; a convolution without padding shrinks them a little), and graphdl
        infers each size. Use a smaller window, pad the input (`padding="same"`), or shrink the
        image less before this layer.""",
        """
        network small {
            input = imageInput([8, 8, 1])
            pool1 = maxPooling2d(2, stride=2)
            pool2 = maxPooling2d(2, stride=2)
            conv  = convolution2d(3, 16)
        }
        """,
        """
        network small {
            input = imageInput([8, 8, 1])
            pool1 = maxPooling2d(2, stride=2)
            pool2 = maxPooling2d(2, stride=2)
            conv  = convolution2d(3, 16, padding="same")
        }
        """,
    ),
    _explanation(
        "E403",
        """A layer gets an input of a kind it cannot take: a 2-D convolution or pooling needs an
        image (height x width x channels), but a fully connected or flatten layer gives features;
        a layer may need a sequence, or a fixed number of channels. The message says what the
        layer needs and what it gets. Reorder the layers (image layers before the fully connected
        ones), or use the layer made for that input.""",
        """
        network mixed {
            input = imageInput([28, 28, 1])
            fc    = fullyConnected(10)
            conv1 = convolution2d(3, 8)
        }
        """,
        """
        network mixed {
            input = imageInput([28, 28, 1])
            conv1 = convolution2d(3, 8)
            fc    = fullyConnected(10)
        }
        """,
    ),
    _explanation(
        "E404",
        """Two layers that share parameters (`shares`) would need learnables of different sizes,
        because their inputs differ: a fully connected layer's weights are sized by its input. Shared
        parameters are one set of tensors, so both layers must take inputs of one size. Give both
        layers inputs of one size, or stop sharing.""",
        """
        network siamese {
            left_input  = featureInput(8)
            right_input = featureInput(16)
            left        = fullyConnected(4)
            right       = fullyConnected(4) shares left
            left_input -> left
            right_input -> right
        }
        """,
        """
        network siamese {
            left_input  = featureInput(8)
            right_input = featureInput(8)
            left        = fullyConnected(4)
            right       = fullyConnected(4) shares left
            left_input -> left
            right_input -> right
        }
        """,
    ),
    _explanation(
        "E501",
        """A layer raised an error while the network ran: analysis checks every layer against the
        input layers' sizes, so this is a tensor that does not fit them, passed to `net(...)` or
        `net.forward(...)` (which, unlike `predict`, do not check their inputs), a tensor of another
        type (`float64`, integers) or on another device than the network, or a custom layer whose
        module disagrees with its shape rule. The error names the layer, its kind and where it
        is declared, shows the sizes of the tensors it received and the sizes it expects; the
        error torch raised is chained to it (`__cause__`). Convert the input
        (`x.float().to(net.device)`), give it the size the input layer declares, or fix the
        custom layer.""",
    ),
    _explanation(
        "E502",
        """Weights were loaded into a network they were not saved from: the file or state_dict
        lacks tensors the network has, has tensors it does not have, or has a tensor of another
        size (a layer with 20 filters where the network's has 32). graphdl checks every tensor
        before it copies any, so the network is left exactly as it was (torch's own
        `load_state_dict` would copy the tensors that fit and then fail). The error lists what
        does not fit. Load weights saved from this network: `graphdl.save_network(net, path)`
        and `graphdl.load_weights(net, path)`, or `graphdl.load_network(path)` for the network
        and its weights together; `strict=False` in `net.load_state_dict` allows missing and
        extra tensors, never tensors of other sizes.""",
    ),
]

# Only the codes that exist: an explanation of a code no longer in CODES is left out (and the tests
# say so), rather than break `graphdl explain` for every code.
EXPLANATIONS: Mapping[str, Explanation] = {e.code: e for e in _EXPLANATIONS if e.code in CODES}


def normalize(code: str) -> str:
    """`e201`, ` E201 ` and `201` all name E201."""
    code = code.strip().upper()
    return "E" + code if code.isdigit() else code


def explanation(code: str) -> Explanation:
    """The explanation of `code` (case-insensitive); KeyError for a code that does not exist."""
    key = normalize(code)
    if key not in EXPLANATIONS:
        raise KeyError(code)
    return EXPLANATIONS[key]


def explain(code: str, color: bool = False) -> str:
    """The long explanation of a diagnostic code, for the terminal: the title, what it means, and
    an example of the mistake with what graphdl says about it and the example fixed. `color`
    colours the diagnostics as `graphdl check` does. KeyError for an unknown code."""
    e = explanation(code)
    parts = [f"{e.code}: {e.title}", _wrap(e.text)]
    if e.mistake is not None:
        parts += ["For example:", _indent(e.mistake), "graphdl says:", _indent(_diagnostics(e.mistake, color))]
    if e.fix is not None:
        parts += ["Fixed:", _indent(e.fix)]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _diagnostics(text: str, color: bool) -> str:
    """What `graphdl check` prints for the example, without the count at the end."""
    from graphdl._frontend import check_source
    from graphdl.source import Source

    checked = check_source(Source(EXAMPLE_PATH, text))
    return "\n".join(render(d, checked.sources, color) for d in checked.diagnostics)


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.rstrip("\n").split("\n"))


_CODE_SPAN = re.compile(r"`[^`]*`")
_KEEP_TOGETHER = "\x00"


def _wrap(text: str) -> str:
    """Fill to WIDTH columns, never breaking inside `code`."""
    glued = _CODE_SPAN.sub(lambda m: m.group(0).replace(" ", _KEEP_TOGETHER), text)
    filled = textwrap.fill(glued, WIDTH, break_long_words=False, break_on_hyphens=False)
    return filled.replace(_KEEP_TOGETHER, " ")
