"""Expansion: a network's body, and the bodies of the blocks it instantiates, into one LayerGraph.

A body is read in two passes. Its declarations first, in order: constants (`let`), ports of a
block (`input`, `output`), and layers, block instances and repetitions, each an *item* with input
and output ports. Its wiring then: the chains, or, in a body without arrows, the declaration order.
A block instance's layers are named after it (`stage2.0.conv1`); its ports lead to the layers
inside, so wiring to an instance wires to them.

Every problem is reported where it was written. An item that could not be made (an unknown kind, a
bad argument) is *invalid*: connections to or from it are dropped without a word, and the layers
that lose an input that way are *quiet*, so that analysis says nothing more about them.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphdl.catalog import kinds, lookup
from graphdl.diagnostics import Diagnostic, Label, Severity, counted, suggest
from graphdl.elaborate._binding import bind_block
from graphdl.elaborate._evaluate import SIZES, UNSET, EvaluationError, evaluate, names_in, truth
from graphdl.elaborate._foresight import ForeseenShapes
from graphdl.elaborate._imports import Scope
from graphdl.elaborate._repeat import RepeatProblem, members
from graphdl.elaborate._size import LayerCount
from graphdl.graph import Connection, Instance, Layer, LayerGraph, binding_diagnostics
from graphdl.limits import LIMITS, raising
from graphdl.source import Span
from graphdl.syntax import Argument, BlockDecl, BrokenDecl, Call, Chain, Condition, LayerDecl, Let, NetworkDecl, PortRef, Ports

Endpoint = tuple[str, str]  # (layer, port) in the graph
Feeds = dict[str | None, Endpoint]  # an item's input ports (None: its first) -> the outputs that will feed them


@dataclass
class Item:
    """Something a body declares that has ports: a layer, a block instance or a repetition.
    `inputs` map each input port to the layer inputs it feeds (a block input may feed several);
    `outputs` each output port to the layer output behind it."""

    name: str
    callee: str
    span: Span
    inputs: dict[str, list[Endpoint]] = field(default_factory=dict)
    outputs: dict[str, Endpoint] = field(default_factory=dict)
    valid: bool = True
    prefix: str = ""  # of the layers it made: "stage2.0." for an instance, the layer's name for a layer
    empty: bool = False  # a repetition without members: what flows into it flows on
    first: Item | None = None  # of a repetition, its first member, which what feeds it feeds

    def layers_fed_by(self, port: str | None = None) -> list[str]:
        ports = [port] if port is not None else list(self.inputs)
        return [layer for p in ports for layer, _ in self.inputs.get(p, [])]


@dataclass
class BlockPort:
    """A block's own `input` or `output`, as a chain names it inside the block."""

    name: str
    direction: str  # "input" or "output"


@dataclass
class Interface:
    """What a body offers the body that instantiates it."""

    inputs: dict[str, list[Endpoint]]
    outputs: dict[str, Endpoint]
    valid: bool
    identity: bool = False  # no layers between its one input and its one output: what flows in flows on


@dataclass
class _Body:
    """The state of one body being expanded."""

    decl: NetworkDecl | BlockDecl
    scope: Scope
    env: dict[str, object]
    prefix: str
    instances: tuple[Instance, ...]
    blocks: tuple[str, ...]  # the blocks being expanded, outermost first, to catch recursion
    guards: tuple[bool, ...] = ()  # for each of `blocks`, whether its instance was declared inside a condition
    feeds: dict[str, Endpoint] = field(default_factory=dict)  # a block's input ports: the layer outputs outside that feed them, where known
    series: bool = False  # a body without arrows, wired as it is declared
    # With arrows: item -> its input port (None: the first) -> the output chains feed it from.
    fed_by: dict[str, dict[str | None, PortRef]] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    order: list[Item] = field(default_factory=list)
    declared: dict[str, Span] = field(default_factory=dict)
    ports: dict[str, tuple[str, Span]] = field(default_factory=dict)  # block port -> (direction, span)
    quiet_ports: set[str] = field(default_factory=set)  # block ports whose wiring failed, reported already
    broken: set[str] = field(default_factory=set)  # names mentioned by statements that did not parse
    origins: dict[str, Span] = field(default_factory=dict)  # block parameter -> the argument that gave it
    network_outputs: list[tuple[str, Span, bool]] = field(default_factory=list)  # a network's `output` statements: name, span, in training only
    inputs: dict[str, list[Endpoint]] = field(default_factory=dict)
    outputs: dict[str, Endpoint] = field(default_factory=dict)
    unknown: dict[str, list[PortRef]] = field(default_factory=dict)
    auto_numbers: dict[str, int] = field(default_factory=dict)  # the last number each base name of an inline layer took
    absent: dict[str, Condition] = field(default_factory=dict)  # names declared only in a branch not taken
    untaken: list[tuple] = field(default_factory=list)  # the statements of branches not taken, checked for names after the body's own
    passes: dict[str, tuple[str, Item]] = field(default_factory=dict)  # block output -> the input it is, through this empty repetition
    through: list[tuple] = field(default_factory=list)  # connections into or out of an empty repetition, made last

    @property
    def is_block(self) -> bool:
        return isinstance(self.decl, BlockDecl)


@dataclass(frozen=True)
class Question:
    """A size an expression asked for (`channels(x)`) that expansion cannot know: analysis of the
    graph answers it. `key` names what was asked about (`stage2.0.x`: the input `x` of instance
    `stage2.0`); `endpoint` is where in the graph its size is, ("input" or "output", layer, port),
    None where the graph holds no such place. A size inferred during expansion, from connections
    made or foreseen by then, is used at once and kept as `guess`, for analysis to confirm."""

    key: str
    span: Span
    endpoint: tuple[str, str, str] | None = None
    guess: object = None  # the Shape used, where it was inferred while the graph was still growing


class Expander:
    def __init__(self, graph: LayerGraph, sizes: Mapping[str, object] | None = None):
        self.graph = graph
        self.sizes = dict(sizes or {})  # the answers to earlier questions, by key: Shapes
        self.questions: dict[str, Question] = {}
        self.diagnostics: list[Diagnostic] = []
        self.quiet: set[str] = set()
        self.foreseen = ForeseenShapes(graph, self.quiet)  # the sizes `channels(x)` asks, as the graph grows
        self._reported: set[tuple[str, str, Span | None]] = set()
        self._counts = LayerCount()
        self._layers = 0  # counted by the network's declarations so far, before they are expanded

    def report(self, diagnostic: Diagnostic) -> None:
        """Add a diagnostic, once: a mistake inside a block is met once per instance."""
        key = (diagnostic.code, diagnostic.message, diagnostic.span)
        if key not in self._reported:
            self._reported.add(key)
            self.diagnostics.append(diagnostic)

    def report_evaluation(self, e: EvaluationError) -> None:
        if not e.reported:
            self.report(Diagnostic(e.code, e.message, e.span, help=e.help))

    # ---- a body -----------------------------------------------------------------------------------

    def body(
        self, decl, scope: Scope, env: dict[str, object], prefix: str = "", instances=(), blocks=(), origins=None, guards=(), feeds=None
    ) -> Interface:
        body = _Body(decl, scope, dict(env), prefix, tuple(instances), tuple(blocks), tuple(guards), origins=dict(origins or {}), feeds=dict(feeds or {}))
        body.env[SIZES] = functools.partial(self._size_of, body)
        # Arrows anywhere, in a branch taken or not, make a body wired: its wiring cannot change
        # from series to DAG by a parameter. A series is wired as it is declared, so that what
        # flows into each item is known (and its size can be) when the item is made.
        wired = any(isinstance(s, Chain) or (isinstance(s, BrokenDecl) and s.wiring) for s in _every_statement(decl.body))
        body.series = not wired
        if wired:
            body.fed_by = _fed_by(decl.body)
        # What broken statements mention may lack what they were to declare: said nothing more of.
        body.broken.update(name for s in _every_statement(decl.body) if isinstance(s, BrokenDecl) for name in s.mentions)
        chains = []
        taken = []
        for statement in self._taken(body, decl.body):
            taken.append(statement)
            if isinstance(statement, Let):
                self._let(body, statement)
            elif isinstance(statement, Ports):
                self._ports(body, statement)
            elif isinstance(statement, LayerDecl):
                self._declare(body, statement)
            elif isinstance(statement, Chain):
                chains.append(statement)
            elif isinstance(statement, BrokenDecl):
                self._broken(body, statement)
        self._check_untaken(body)
        for statement in taken:
            if isinstance(statement, BrokenDecl):
                # What a broken statement mentions may lack the connections it was to make.
                body.broken.update(statement.mentions)
                for name in statement.mentions:
                    item = body.items.get(name)
                    self.quiet.update(item.layers_fed_by() if item is not None else [])
                    self.quiet.add(body.prefix + name)
        if wired:
            for chain in chains:
                self._wire(body, chain)
            self._wire_through(body)
            self._report_unknown(body)
        return self._interface(body, wired)

    def _place_questions(self, body: _Body, source, destination: Item, port: str | None) -> None:
        """An instance whose inputs' sizes were asked is fed: the answer is the size of what feeds
        it, `source` (an item and its output port, or the enclosing block's input port, whose
        own size is then asked). Done whether or not the instance could be made: it often could
        not, for want of the answer."""
        while destination.first is not None:
            destination = destination.first
        if not self.questions or source is None or not destination.prefix.endswith("."):
            return
        waiting = [
            key for key, question in self.questions.items()
            if question.endpoint is None and key.startswith(destination.prefix) and "." not in key[len(destination.prefix) :]
            and port in (None, key[len(destination.prefix) :])
        ]  # fmt: skip
        if not waiting:
            return
        if isinstance(source, BlockPort):
            key = body.prefix + source.name
            self.questions.setdefault(key, Question(key, body.ports[source.name][1]))
            endpoint = ("alias", key, "")
        elif source[0].valid and source[1] in source[0].outputs:
            endpoint = ("output", *source[0].outputs[source[1]])
        else:
            return
        for key in waiting:
            question = self.questions[key]
            self.questions[key] = Question(key, question.span, endpoint, question.guess)

    def _size_of(self, body: _Body, name: str, span: Span):
        """The Shape flowing out of the item `name` of the body, or into its input port `name`:
        known from an answer, else asked (and the expression that asked has no value yet)."""
        key = body.prefix + name
        item = body.items.get(name)
        direction = body.ports.get(name, (None,))[0]
        source = None
        if item is not None and item.valid and item.outputs:
            source = next(iter(item.outputs.values()))
        elif direction == "input":
            source = body.feeds.get(name)
        if key in self.sizes:  # analysis's answer of an earlier round: confirmed again by this one's
            self.questions.setdefault(key, Question(key, span, ("output", *source) if source is not None else None, self.sizes[key]))
            return self.sizes[key]
        # Known now where what flows there is wired, or foreseen, already.
        known = self.foreseen.at(*source) if source is not None else None
        if known is not None:
            self.questions.setdefault(key, Question(key, span, ("output", *source), known))
            return known
        if item is None and direction != "input":
            if name in body.broken:  # a broken statement was to declare it, and is reported
                raise EvaluationError(f"`{name}` has no size", span, reported=True)
            if direction == "output":
                help = "ask the layer that produces it"
            else:
                known = [n for n in body.items if "." not in n] + [p for p, (d, _) in body.ports.items() if d == "input"]
                help = suggest(name, known) or "name a layer or instance declared before, or one of the block's inputs"
            raise EvaluationError(f"no layer, instance or input named `{name}` to take the size of", span, "E217", help)
        if item is not None and not item.valid:
            raise EvaluationError(f"`{name}` has no size", span, reported=True)
        endpoint = None
        if item is not None and item.outputs:
            layer, port = next(iter(item.outputs.values()))
            endpoint = ("output", layer, port)
        self.questions.setdefault(key, Question(key, span, endpoint))
        raise EvaluationError(f"the size of `{name}` is not known yet", span, "E233", reported=True)

    def _taken(self, body: _Body, statements):
        """The statements of a body as its conditions choose them, in order: each condition is
        decided when it is reached, with the constants declared before it."""
        for statement in statements:
            if not isinstance(statement, Condition):
                yield statement
                continue
            both = statement.then + statement.otherwise
            for inner in _every_statement(both):
                if isinstance(inner, Ports):
                    self.report(
                        Diagnostic(
                            "E220", "a block's ports are declared outside conditions", inner.keyword_span, "",
                            help="declare `input` and `output` at the top of the block, and connect them inside the condition",
                        )
                    )  # fmt: skip
            try:
                taken = truth(statement.test, body.env)
            except EvaluationError as e:
                self.report_evaluation(e)
                # Neither branch is there: what they declare or connect is reported no further.
                yield BrokenDecl(None, statement.span, tuple(_mentioned_names(both)))
                continue
            branch, other = (statement.then, statement.otherwise) if taken else (statement.otherwise, statement.then)
            for name in _declared_names(other):
                body.absent.setdefault(name, statement)
            body.untaken.extend(other)
            yield from self._taken(body, tuple(s for s in branch if not isinstance(s, Ports)))

    def _check_untaken(self, body: _Body) -> None:
        """A branch not taken makes nothing, but a compiler reads all of its program: a kind or a
        name misspelt there is reported now, not when a parameter first takes the branch. Its
        arguments are not evaluated: they may hold only where the branch is taken."""
        if not body.untaken:
            return
        # Ports declared in a branch are reported already (E220): their names count as declared.
        ports = {name for s in _every_statement(body.decl.body) if isinstance(s, Ports) for name in s.names}
        known = _declared_names(body.decl.body) | ports | set(body.ports) | set(body.items)
        blocks = [n for n, (d, _) in body.scope.names.items() if isinstance(d, BlockDecl)]
        for statement in _every_statement(body.untaken):
            calls = [statement.call] if isinstance(statement, LayerDecl) else []
            if isinstance(statement, Chain):
                calls = [node for node in statement.nodes if isinstance(node, Call)]
            for call in calls:
                if lookup(call.callee) is None and call.callee not in blocks:
                    self._report_unknown_callee(body, call)
            if isinstance(statement, Chain):
                for node in statement.nodes:
                    if isinstance(node, PortRef) and node.layer.split(".")[0] not in known and node.layer not in known and node.layer not in body.broken:
                        where = f"block `{body.decl.name}`" if body.is_block else f"network `{body.decl.name}`"
                        help = suggest(node.layer, known) or f"declare it: `{node.layer} = kind(...)`"
                        self.report(Diagnostic("E211", f"no layer named `{node.layer}` in {where}", node.layer_span, "not declared", help=help))

    def _within_layer_limit(self, body: _Body, statement: LayerDecl | Call, span: Span, what: str) -> bool:
        """Whether a declaration of the network keeps it within the limit on layers, counted
        before anything is expanded (reported where it is not). A block's declarations are
        counted in the network declaration that instantiates it."""
        if body.is_block or body.prefix:
            return True
        if isinstance(statement, Call):
            count = self._counts.call(statement, body.scope, body.env, ())
        else:
            count = self._counts.statement(statement, body.scope, body.env)
        if self._layers + count <= LIMITS.layers:
            self._layers += count
            return True
        shown = f"{count:,}" if count < 10**15 else f"{float(count):.3g}"
        before = (f"with the {counted(self._layers, 'layer')} declared before it",) if self._layers else ()
        self.report(
            Diagnostic(
                "E231", f"{what} makes {shown} layers, more than the {LIMITS.layers:,} a network may have", span, "", notes=before,
                help=raising("layers"),
            )
        )  # fmt: skip
        return False

    def _let(self, body: _Body, let: Let) -> None:
        if let.keyword != "let":
            self.report(Diagnostic("E101", f"expected `let`, found `{let.keyword}`", let.keyword_span, help="a constant is written `let name = value`"))
            return
        if let.name in body.env:
            self.report(Diagnostic("E005", f"`{let.name}` is defined twice", let.name_span, "defined again here"))
            return
        try:
            body.env[let.name] = evaluate(let.value, body.env)
        except EvaluationError as e:
            self.report_evaluation(e)
            body.env[let.name] = UNSET  # its uses say nothing more: the mistake is reported here

    def _ports(self, body: _Body, ports: Ports) -> None:
        if ports.keyword not in ("input", "output"):
            # Two names in a row read as ports; in a network (which has none) it is a slip in a statement.
            statement = "a layer is declared `name = kind(...)` and layers are connected `a -> b`"
            help = f"a block's ports are written `input x, y` and `output z`; {statement}" if body.is_block else statement
            expected = "`input` or `output`" if body.is_block else "a statement"
            self.report(Diagnostic("E101", f"expected {expected}, found `{ports.keyword}`", ports.keyword_span, help=help))
            return
        if not body.is_block:
            if ports.keyword == "input":
                self.report(
                    Diagnostic(
                        "E220",
                        "a network's inputs are its input layers, not `input` statements",
                        ports.keyword_span,
                        help="declare them as layers: `image = imageInput([28, 28, 1])`",
                    )
                )
            else:
                training = ports.only is not None
                if training and ports.only != "training":
                    self.report(
                        Diagnostic(
                            "E101", f"expected `training`, found `{ports.only}`", ports.only_span, "",
                            help="`output aux if training` declares an output computed only in training; other conditions are `if ... { }` statements",
                        )
                    )  # fmt: skip
                body.network_outputs.extend((name, span, training) for name, span in zip(ports.names, ports.name_spans))
            return
        if ports.only is not None:
            self.report(
                Diagnostic(
                    "E220", "only a network's outputs may be for training only", ports.only_span, "",
                    help="declare `output aux if training` in the network, naming the instance's output there",
                )
            )  # fmt: skip
        for name, span in zip(ports.names, ports.name_spans):
            if name in body.ports or name in body.declared:
                self.report(Diagnostic("E210", f"`{name}` is declared twice", span, "declared again here"))
                continue
            body.ports[name] = (ports.keyword, span)
            body.declared[name] = span
            if ports.keyword == "input":
                body.inputs[name] = []

    def _broken(self, body: _Body, broken: BrokenDecl) -> None:
        # Its syntax error is reported; keep its name in the network (a constant's in scope,
        # with no value, so that its uses say nothing more).
        if broken.constant is not None:
            body.env.setdefault(broken.constant, UNSET)
            return
        if broken.name and broken.name not in body.declared:
            full = body.prefix + broken.name
            if full not in self.graph:
                self.graph.add_layers(Layer(full, "", name_span=broken.name_span, instances=body.instances))
            body.declared[broken.name] = broken.span
            item = Item(broken.name, "", broken.span, valid=False, prefix=full)
            body.items[broken.name] = item
            body.order.append(item)

    # ---- declarations -----------------------------------------------------------------------------

    def _declare(self, body: _Body, decl: LayerDecl) -> None:
        if decl.name in body.declared:
            self.report(
                Diagnostic(
                    "E210",
                    f"the layer name `{decl.name}` is declared twice",
                    decl.name_span,
                    "declared again here",
                    (Label(body.declared[decl.name], "first declared here"),),
                    help="give each layer its own name",
                )
            )
            return
        body.declared[decl.name] = decl.name_span
        if not self._within_layer_limit(body, decl, decl.name_span, f"`{decl.name}`"):
            self._append(body, self._invalid(body, decl.name, decl.call))
            return
        owner = self._owner(body, decl)
        feed = self._feed(body, decl.name)
        if decl.repeat is None:
            item = self.make(body, decl.call, decl.name, decl.name_span, body.env, owner, feed)
        else:
            item = self._repeat(body, decl, owner, feed)
        self._append(body, item)

    def _append(self, body: _Body, item: Item) -> None:
        """A declared item into the body, and, in a series, connected to the one before."""
        before = next((i for i in reversed(body.order) if not i.empty), None)
        body.items[item.name] = item
        body.order.append(item)
        if body.series and before is not None and not item.empty:
            self._connect_series(body, before, item, item.span)

    def _feed(self, body: _Body, name: str) -> Feeds:
        """The layer outputs that will flow into the item `name`, by its input port (None: its
        first), where they are known before the item is made: in a series, the last item's
        output (the block's input, for its first item); in a body with arrows, the outputs chains
        feed it from (a block input, an item made)."""
        if body.series:
            before = next((i for i in reversed(body.order) if not i.empty), None)
            if before is None:
                first = next(iter(body.feeds.values()), None)
                return {None: first} if first is not None else {}
            output = next(iter(before.outputs.values()), None) if before.valid else None
            return {None: output} if output is not None else {}
        feeds = {}
        for port, source in body.fed_by.get(name, {}).items():
            if source.layer in body.feeds:
                feeds[port] = body.feeds[source.layer]
                continue
            item = body.items.get(source.layer)
            if item is not None and item.valid and item.outputs:
                output = item.outputs.get(source.port) if source.port is not None else next(iter(item.outputs.values()))
                if output is not None:
                    feeds[port] = output
        return feeds

    def _owner(self, body: _Body, decl: LayerDecl) -> Item | None:
        """The item whose parameters a `shares` declaration uses, after checking it can."""
        if decl.shares is None:
            return None
        owner = body.items.get(decl.shares)
        known = lookup(decl.call.callee) is not None or isinstance(body.scope.names.get(decl.call.callee, (None,))[0], BlockDecl)
        if (owner is not None and not owner.valid) or not known:
            return None  # reported already, where the owner or this callee is written
        problem = None
        if owner is None:
            problem = f"`{decl.name}` shares `{decl.shares}`, which is not declared before it"
        elif decl.repeat is not None:
            problem = f"the repeated `{decl.name}` cannot share parameters"
        elif owner.callee != decl.call.callee:
            problem = f"`{decl.name}` ({decl.call.callee}) cannot share the parameters of `{decl.shares}` ({owner.callee})"
        if problem:
            self.report(Diagnostic("E223", problem, decl.shares_span, "", help="sharing needs the same layer kind or block, declared earlier"))
            return None
        return owner if owner.valid else None

    def _repeat(self, body: _Body, decl: LayerDecl, owner: Item | None, feed: Feeds | None = None) -> Item:
        repeat = decl.repeat
        try:
            unrolled = members(repeat, body.env)
        except EvaluationError as e:
            self.report_evaluation(e)
            return self._invalid(body, decl.name, decl.call)
        except RepeatProblem as problem:
            # Bounds that come from a block instance's arguments: the mistake is in the instance.
            origin = self._origin_of(body, (repeat.first, repeat.last))
            if origin is None or problem.code != "E218":
                self.report(Diagnostic(problem.code, problem.message, repeat.span, help=problem.help))
            else:
                used = Label(repeat.span, f"used by the repetition `{body.prefix}{decl.name}`")
                self.report(Diagnostic(problem.code, problem.message, origin, "given here", (used,), help=problem.help))
            return self._invalid(body, decl.name, decl.call)
        made = []
        for label, values in unrolled:
            # Each member is connected to the one before as soon as it is made: what flows into
            # the next is then known, and so its size.
            member = self.make(body, decl.call, f"{decl.name}.{label}", decl.name_span, {**body.env, **values}, owner, feed)
            body.items[member.name] = member
            if member.empty:  # an instance that is no layers: the next member takes what this one would
                continue
            if made:
                self._connect_series(body, made[-1], member, decl.span)
            made.append(member)
            output = next(iter(member.outputs.values()), None) if member.valid else None
            feed = {None: output} if output is not None else {}
        if not made:
            if lookup(decl.call.callee) is None and not isinstance(body.scope.names.get(decl.call.callee, (None,))[0], BlockDecl):
                # Empty, but read: a misspelt kind is reported before a parameter first fills it.
                self._report_unknown_callee(body, decl.call)
            return Item(decl.name, decl.call.callee, decl.span, {}, {}, prefix=body.prefix + decl.name + ".", empty=True)
        valid = all(m.valid for m in made)
        return Item(decl.name, decl.call.callee, decl.call.span, made[0].inputs, made[-1].outputs, valid, body.prefix + decl.name + ".", first=made[0])

    def _origin_of(self, body: _Body, expressions) -> Span | None:
        """Where the block instance's argument that a value in `expressions` uses was given."""
        return next((body.origins[n] for expr in expressions if expr is not None for n in names_in(expr) if n in body.origins), None)

    def make(
        self, body: _Body, call: Call, name: str, name_span: Span, env: Mapping[str, object], owner: Item | None = None, feed: Feeds | None = None
    ) -> Item:
        """A layer or a block instance, named `name` in the body, from a call; `feed`, where
        known, holds the layer outputs that will flow into its inputs (None: the first)."""
        item = self._make(body, call, name, name_span, env, owner, feed or {})
        if feed and item.valid and item.inputs:
            # Until the connections are made, sizes are inferred as if they were.
            for port, source in feed.items():
                for endpoint in item.inputs.get(port if port is not None else next(iter(item.inputs)), []):
                    self.foreseen.feed(endpoint, source)
        return item

    def _make(self, body: _Body, call: Call, name: str, name_span: Span, env: Mapping[str, object], owner: Item | None, feed: Feeds) -> Item:
        arguments = []
        for argument in call.arguments:
            try:
                arguments.append((argument.name, evaluate(argument.value, env)))
            except EvaluationError as e:
                self.report_evaluation(e)
                return self._invalid(body, name, call)
        full = body.prefix + name
        if full in self.graph:
            self.report(Diagnostic("E210", f"the layer name `{full}` is used twice", name_span, "a layer of this name exists already"))
            return Item(name, call.callee, call.span, valid=False)
        kind = lookup(call.callee)
        if kind is not None:
            shares = self._shared_owner(full, call, name_span, owner)
            layer = Layer(full, call.callee, tuple(arguments), shares, call, name_span, body.instances)
            self.graph.add_layers(layer)
            if not layer.valid:
                # Each argument by the spans its diagnostics point at: one pass, however many there are.
                written = {span: a for a in reversed(call.arguments) for span in (a.value.span, a.name_span) if span is not None}
                for diagnostic in binding_diagnostics(layer):
                    self._report_in_instance(body, name, diagnostic, written.get(diagnostic.span))
                self.quiet.add(full)
                return Item(name, call.callee, call.span, valid=False, prefix=full)
            inputs = {port: [(full, port)] for port in layer.input_ports}
            outputs = {port: (full, port) for port in layer.output_ports}
            return Item(name, call.callee, call.span, inputs, outputs, prefix=full)
        definition = body.scope.names.get(call.callee)
        if definition is not None and isinstance(definition[0], BlockDecl):
            return self._instantiate(body, call, name, arguments, definition, owner, feed)
        self._report_unknown_callee(body, call)
        return self._invalid(body, name, call)

    def _report_unknown_callee(self, body: _Body, call: Call) -> None:
        known = [k.name for k in kinds()] + [n for n, (d, _) in body.scope.names.items() if isinstance(d, BlockDecl)]
        help = _pytorch_name(call.callee) or suggest(call.callee, known)
        self.report(Diagnostic("E201", f"unknown layer kind or block `{call.callee}`", call.callee_span, "", help=help))

    def _report_in_instance(self, body: _Body, name: str, diagnostic: Diagnostic, argument: Argument | None) -> None:
        """A layer's argument is wrong; if its value comes from the arguments of the block
        instance, the mistake is there: report it there, once, however many layers it reaches."""
        origin = next((body.origins[n] for n in names_in(argument.value) if n in body.origins), None) if argument else None
        if origin is None:
            self.report(diagnostic)
            return
        used = Label(argument.value.span, f"used here by `{body.prefix}{name}`")
        moved = Diagnostic(diagnostic.code, diagnostic.message, origin, "given here", (used,), diagnostic.notes, diagnostic.help, diagnostic.severity)
        key = (moved.code, "argument", origin)
        if key not in self._reported:
            self._reported.add(key)
            self.diagnostics.append(moved)

    def _instantiate(self, body: _Body, call: Call, name: str, arguments, definition, owner: Item | None, feed: Feeds) -> Item:
        block, home = definition
        full = body.prefix + name
        guarded = _inside_condition(body.decl, call.span)
        if block.name in body.blocks:
            # Recursion ends only where a condition can stop it: one on the way round, or none at all.
            again = len(body.blocks) - 1 - body.blocks[::-1].index(block.name)
            if not any((*body.guards[again + 1 :], guarded)):
                self.report(
                    Diagnostic(
                        "E225", f"block `{block.name}` instantiates itself, with no condition to stop it", call.span, "",
                        help="a block may contain itself, directly or through another block, only inside an `if` that ends the recursion",
                    )
                )  # fmt: skip
                return self._invalid(body, name, call)
        if len(body.blocks) >= LIMITS.block_depth:
            chain = " -> ".join(body.blocks[:3]) + " -> ... -> " + block.name
            self.report(
                Diagnostic(
                    "E231", f"block instances nested more than {LIMITS.block_depth} deep", call.span, "", notes=(f"through {chain}",),
                    help=raising("block_depth"),
                )
            )  # fmt: skip
            return self._invalid(body, name, call)
        env = self._block_arguments(block, call, arguments)
        if env is None:
            return self._invalid(body, name, call)
        instance = Instance(full, block.name, call.span)
        sharing = _Sharing(owner.prefix, full + ".") if owner else None
        origins = self._origins(body, block, call)
        interface = self._with_sharing(
            sharing,
            lambda: self.body(
                block, home, env, full + ".", (*body.instances, instance), (*body.blocks, block.name), origins, (*body.guards, guarded), _feeds(block, feed)
            ),
        )
        if interface.identity:
            return Item(name, block.name, call.span, {}, {}, prefix=full + ".", empty=True)
        if not interface.valid:
            # Something inside is reported already: its layers cannot be wired in.
            self.quiet.update(layer.name for layer in self.graph.layers if layer.name.startswith(full + "."))
        return Item(name, block.name, call.span, interface.inputs, interface.outputs, interface.valid, full + ".")

    def _origins(self, body: _Body, block: BlockDecl, call: Call) -> dict[str, Span]:
        """For each block parameter given in the call, the argument it came from: the call's own,
        or, when that just passes on a parameter of the enclosing block, where that one came from."""
        positional = iter(p.name for p in block.parameters)
        origins = {}
        for argument in call.arguments:
            parameter = argument.name if argument.name is not None else next(positional, None)
            passed = [body.origins[n] for n in names_in(argument.value) if n in body.origins]
            origins[parameter] = passed[0] if passed else argument.value.span
        return origins

    def _block_arguments(self, block: BlockDecl, call: Call, arguments) -> dict[str, object] | None:
        """The block's parameters bound to a call's arguments; defaults may use earlier parameters."""
        env, problems, failed = bind_block(block, arguments)
        for problem in problems:
            argument = call.arguments[problem.index] if problem.index is not None else None
            span = (argument.name_span if problem.on_name and argument.name_span else argument.value.span) if argument else call.span
            message = problem.message.replace("this kind", f"block `{block.name}`")
            self.report(Diagnostic(problem.code, message, span, help=problem.help))
        if failed is not None:
            self.report_evaluation(failed)
        return env

    def _invalid(self, body: _Body, name: str, call: Call) -> Item:
        """An item that could not be made: a quiet placeholder layer keeps its name in pictures."""
        full = body.prefix + name
        if full not in self.graph:
            self.graph.add_layers(Layer(full, call.callee, (), None, call, None, body.instances))
        self.quiet.add(full)
        return Item(name, call.callee, call.span, valid=False, prefix=full)

    # ---- sharing ----------------------------------------------------------------------------------

    _sharing: _Sharing | None = None

    def _shared_owner(self, full: str, call: Call, name_span: Span, owner: Item | None) -> str | None:
        """The layer whose parameters a new layer uses: its owner's, or, inside an instance that
        shares another's, the same layer of that other instance."""
        if owner is not None:
            return _root(self.graph, owner.prefix)
        sharing = self._sharing
        if sharing is None or not full.startswith(sharing.prefix):
            return None
        counterpart = sharing.owner + full[len(sharing.prefix) :]
        other = self.graph.get(counterpart)
        if other is None or other.kind != call.callee:
            found = f"a {other.kind} layer" if other is not None else "nothing"
            self.report(
                Diagnostic(
                    "E223",
                    f"`{full}` has no counterpart to share: `{counterpart}` is {found}",
                    name_span,
                    "",
                    help="instances that share parameters must have the same layers",
                )
            )
            return None
        return _root(self.graph, counterpart)

    def _with_sharing(self, sharing, expand):
        outer, self._sharing = self._sharing, sharing or self._sharing
        try:
            return expand()
        finally:
            self._sharing = outer

    # ---- wiring -----------------------------------------------------------------------------------

    def _connect_series(self, body: _Body, previous: Item, item: Item, span: Span) -> None:
        if previous.outputs:
            self._place_questions(body, (previous, next(iter(previous.outputs))), item, None)
        item = _entry(item)
        if not previous.valid or not item.valid:
            if previous.valid is False and item.valid:
                self.quiet.update(item.layers_fed_by(next(iter(item.inputs), None)))
            return
        if not item.inputs:
            layer = self.graph.get(item.prefix)
            if layer is not None and layer.valid and layer.catalog_kind.is_input:
                self.report(
                    Diagnostic(
                        "E305",
                        f"input layer `{layer.name}` must come first",
                        layer.span,
                        "declared after other layers",
                        help="a network without arrows connects its layers in the order they are declared: move the input layer to the top",
                    )
                )
                first = body.order[0]
                if first.inputs:
                    self.quiet.update(first.layers_fed_by())
            return
        if not previous.outputs:
            self.quiet.update(item.layers_fed_by(next(iter(item.inputs))))
            return
        source = next(iter(previous.outputs.values()))
        # Into the first input, as MATLAB's layer arrays connect.
        for destination in next(iter(item.inputs.values())):
            self.graph.add_connection(Connection(*source, *destination, span))

    def _wire(self, body: _Body, chain: Chain) -> None:
        nodes = [self._node(body, node) for node in chain.nodes]
        last = len(nodes) - 1
        for i, ((source, source_ref), (destination, destination_ref)) in enumerate(itertools.pairwise(nodes)):
            span = _join(source_ref.span, destination_ref.span)
            src = self._resolve(body, source, source_ref, "output", through=i > 0)
            dst = self._resolve(body, destination, destination_ref, "input", through=i + 1 < last)
            if isinstance(destination, Item):
                self._place_questions(body, src, destination, destination_ref.port if isinstance(destination_ref, PortRef) else None)
            if src is not None and dst is not None:
                if any(isinstance(end, tuple) and end[0].empty for end in (src, dst)):
                    body.through.append((src, dst, span, source_ref, destination_ref))
                else:
                    self._connect(body, src, dst, span, source_ref, destination_ref)
            elif isinstance(destination, Item):
                # Its input is reported as broken already; not also as missing.
                port = dst[1] if isinstance(dst, tuple) else None
                self.quiet.update(destination.layers_fed_by(port) or [destination.prefix])
            for end in (source, destination):
                if isinstance(end, BlockPort) and (src is None or dst is None):
                    body.quiet_ports.add(end.name)

    def _wire_through(self, body: _Body) -> None:
        """The connections into and out of empty repetitions, made once every chain is read: what
        flows into one flows on to where it leads, so `a -> stage -> b` with `stage` empty is
        `a -> b`."""
        if not body.through:
            return
        into: dict[str, list] = {}
        for src, dst, *_ in body.through:
            if isinstance(dst, tuple) and dst[0].empty:
                into.setdefault(dst[0].name, []).append(src)

        def sources(end, seen=()) -> list:
            if not (isinstance(end, tuple) and end[0].empty):
                return [end]
            if end[0].name in seen:
                return []
            return [s for fed in into.get(end[0].name, []) for s in sources(fed, (*seen, end[0].name))]

        for src, dst, span, source_ref, destination_ref in body.through:
            if isinstance(dst, tuple) and dst[0].empty:
                continue
            found = sources(src)
            if not found:
                self._report_empty(body, src[0], destination_ref)
                self._quiet_end(body, dst)
            for source in found:
                if isinstance(source, BlockPort) and isinstance(dst, BlockPort):
                    body.passes[dst.name] = (source.name, src[0])
                else:
                    self._connect(body, source, dst, span, source_ref, destination_ref)

    def _quiet_end(self, body: _Body, end) -> None:
        """Nothing more about the end of a connection that was reported."""
        if isinstance(end, BlockPort):
            body.quiet_ports.add(end.name)
        else:
            self.quiet.update(end[0].layers_fed_by(end[1]) or [end[0].prefix])

    def _report_empty(self, body: _Body, item: Item, where, block_input: BlockPort | None = None) -> None:
        """An empty repetition that something needs to produce a value."""
        decl = next((s for s in _every_statement(body.decl.body) if isinstance(s, LayerDecl) and s.name == item.name), None)
        repeat = decl.repeat if decl is not None else None
        if block_input is not None:
            message = f"the block's input `{block_input.name}` reaches an output only through `{body.prefix}{item.name}`, which is empty here"
            help = "an instance may be no layers at all only where its block has one input and one output"
        else:
            message = f"`{body.prefix}{item.name}` is empty here, and nothing flows into it to pass on"
            help = f"connect something into `{item.name}`, or give the repetition at least one member"
        origin = self._origin_of(body, (repeat.first, repeat.last)) if repeat is not None else None
        labels = (Label(repeat.span, f"no members: `{body.prefix}{item.name}` is empty"),) if repeat is not None else ()
        if origin is not None:
            self.report(Diagnostic("E232", message, origin, "given here", labels, help=help))
        else:
            self.report(Diagnostic("E232", message, where.span, "", labels, help=help))

    def _node(self, body: _Body, node) -> tuple[Item | BlockPort | None, PortRef | Call]:
        if isinstance(node, Call):  # an inline, anonymous layer or block instance
            name = self._auto_name(body, node.callee)
            body.declared[name] = node.callee_span
            if self._within_layer_limit(body, node, node.callee_span, f"this `{node.callee}`"):
                item = self.make(body, node, name, node.callee_span, body.env)
            else:
                item = self._invalid(body, name, node)
            body.items[name] = item
            return item, node
        return self._lookup(body, node), node

    def _auto_name(self, body: _Body, callee: str) -> str:
        """MATLAB's names for unnamed layers: the kind's short name, then _1, _2, ..."""
        kind = lookup(callee)
        base = kind.base_name if kind else callee
        # Names are only ever added: a number found taken stays taken, so the search for the next
        # free one starts after the last given, not at 1 (a chain of 5,000 relu() scanned 12.5M).
        number = body.auto_numbers.get(base, 0)
        name = f"{base}_{number}" if number else base
        while name in body.declared or body.prefix + name in self.graph:
            number += 1
            name = f"{base}_{number}"
        body.auto_numbers[base] = number
        return name

    def _lookup(self, body: _Body, ref: PortRef) -> Item | BlockPort | None:
        if ref.layer in body.items:
            return body.items[ref.layer]
        if ref.layer in body.ports:
            return BlockPort(ref.layer, body.ports[ref.layer][0])
        head = ref.layer.split(".")[0]
        if head in body.items and "." in ref.layer:
            block = body.items[head].callee
            self.report(
                Diagnostic(
                    "E219",
                    f"`{ref.layer}` is inside `{head}`, an instance of block `{block}`",
                    ref.layer_span,
                    "not visible here",
                    help=f"connect to the ports of `{head}` (its inputs and outputs), not to the layers inside it",
                )
            )
            return None
        body.unknown.setdefault(ref.layer, []).append(ref)
        return None

    def _resolve(self, body: _Body, node, ref, side: str, through: bool):
        """The endpoint a chain element names on one side of an arrow: for an item, a port of it;
        for a block port, itself. None after reporting why there is none."""
        if node is None:
            return None
        if isinstance(node, BlockPort):
            wanted = "input" if side == "output" else "output"
            if node.direction != wanted:
                role = "start" if node.direction == "input" else "end"
                self.report(
                    Diagnostic(
                        "E220",
                        f"`{node.name}` is the block's {node.direction}: it can only {role} a connection",
                        ref.span,
                        "",
                        help="connect it on the other side of the arrow",
                    )
                )
                return None
            return node
        port = ref.port if isinstance(ref, PortRef) else None
        if side == "input":
            node = _entry(node)
        if not node.valid:
            return None
        if node.empty:
            return node, port
        ports = node.outputs if side == "output" else node.inputs
        other = node.inputs if side == "output" else node.outputs
        if port in ports:
            return node, port
        if port is not None and (port not in other or not through):
            self._report_port(node, ref, side)
            return None
        if len(ports) == 1:
            return node, next(iter(ports))
        if side == "input" and not ports:
            layer = self.graph.get(node.prefix)
            if layer is not None and layer.catalog_kind and layer.catalog_kind.is_input:
                self.report(
                    Diagnostic(
                        "E305",
                        f"input layer `{layer.name}` has an incoming connection",
                        ref.span,
                        "input layers start a network",
                        help="remove the connection into it",
                    )
                )
            return None
        options = " or ".join(f"`{node.name}/{p}`" for p in ports)
        self.report(Diagnostic("E213", f"`{node.name}` has several {side}s; say which", ref.span, f"which {side} of `{node.name}`?", help=f"specify {options}"))
        return None

    def _report_port(self, item: Item, ref: PortRef, side: str) -> None:
        listing = f"inputs: {', '.join(item.inputs) or 'none'}; outputs: {', '.join(item.outputs) or 'none'}"
        ports = item.outputs if side == "output" else item.inputs
        message = f"`{item.name}` ({item.callee}) has no {side} port `{ref.port}`"
        if ref.port in item.inputs or ref.port in item.outputs:
            where = "leaves" if side == "output" else "enters"
            message = f"`{item.name}/{ref.port}` is not an {side}: this connection {where} `{item.name}`"
        self.report(Diagnostic("E212", message, ref.span, "no such port", notes=(f"its ports are {listing}",), help=suggest(ref.port, ports)))

    def _connect(self, body: _Body, src, dst, span: Span, source_ref, destination_ref) -> None:
        if isinstance(src, BlockPort) and isinstance(dst, BlockPort):
            self.report(
                Diagnostic("E220", f"the block's input `{src.name}` goes straight to its output `{dst.name}`", span, "", help="connect them through a layer")
            )
            return
        if isinstance(src, BlockPort):
            body.inputs[src.name].extend(dst[0].inputs[dst[1]])
            return
        source = src[0].outputs[src[1]]
        if isinstance(dst, BlockPort):
            if dst.name in body.outputs:
                self.report(Diagnostic("E303", f"the block's output `{dst.name}` is connected twice", destination_ref.span, "connected again here"))
                return
            body.outputs[dst.name] = source
            return
        for destination in dst[0].inputs[dst[1]]:
            self.graph.add_connection(Connection(*source, *destination, span))

    def _report_unknown(self, body: _Body) -> None:
        """One diagnostic per undeclared name, at its first use, with its other uses."""
        known = list(body.items) + list(body.ports)
        suggested = 0
        for name, references in body.unknown.items():
            if name in body.broken:
                continue
            first, *others = references
            labels = tuple(Label(r.layer_span, "and here") for r in others)
            # Spelling suggestions for the first few: past them, a file of thousands of unknown
            # names is no set of misspellings, and each suggestion costs a search of the names.
            where = f"block `{body.decl.name}`" if body.is_block else f"network `{body.decl.name}`"
            condition = body.absent.get(name)
            if condition is not None:
                labels = (*labels, Label(condition.test.span, "this condition leaves it out"))
                help = "connect it inside the branch that declares it"
                message = f"`{name}` is not in {where} here: it is declared in a branch not taken"
                self.report(Diagnostic("E211", message, first.layer_span, "", labels, help=help))
                continue
            suggested += 1
            help = (suggest(name, known) if suggested <= LIMITS.errors else None) or f"declare it: `{name} = kind(...)`"
            self.report(Diagnostic("E211", f"no layer named `{name}` in {where}", first.layer_span, "not declared", labels, help=help))

    # ---- what a body offers -------------------------------------------------------------------------

    def _declared_outputs(self, body: _Body) -> tuple[str, ...]:
        """The layers a network's `output` statements name (an instance: the layers behind its
        outputs)."""
        layers: list[str] = []
        training: list[str] = []
        for name, span, only_in_training in body.network_outputs:
            item = body.items.get(name)
            if item is None:
                if name not in body.broken:
                    self.report(
                        Diagnostic("E211", f"no layer named `{name}` in network `{body.decl.name}`", span, "not declared", help=suggest(name, body.items))
                    )
                continue
            if not item.valid:
                continue
            for layer, _ in item.outputs.values():
                if layer not in layers:
                    layers.append(layer)
                    if only_in_training:
                        training.append(layer)
        if layers and len(training) == len(layers):
            span = next(span for _, span, only in body.network_outputs if only)
            self.report(
                Diagnostic(
                    "E220", "every output of the network is for training only: evaluation would compute nothing", span, "",
                    help="declare the main output without `if training`: `output prob`",
                )
            )  # fmt: skip
        self.graph.training_outputs = tuple(training)
        return tuple(layers)

    def _interface(self, body: _Body, wired: bool) -> Interface:
        if not body.is_block:
            if body.network_outputs:
                self.graph.outputs = self._declared_outputs(body)
            return Interface({}, {}, True)
        if body.broken:
            # A statement of the block did not parse: its wiring cannot be known.
            return Interface({}, {}, False)
        declared_in = [n for n, (d, _) in body.ports.items() if d == "input"]
        declared_out = [n for n, (d, _) in body.ports.items() if d == "output"]
        items = [i for i in body.order if i.valid]
        if not wired:
            # A block without arrows is a series: into its first layer, out of its last.
            made = [item for item in body.order if not item.empty]
            if body.order and not made:
                return Interface({}, {}, True, identity=True)  # every item an empty repetition
            first, last = (made[0], made[-1]) if made else (None, None)
            name_in = declared_in[0] if declared_in else "in"
            name_out = declared_out[0] if declared_out else "out"
            inputs = {name_in: list(next(iter(first.inputs.values()), []))} if first and first.valid and first.inputs else {}
            outputs = {name_out: next(iter(last.outputs.values()))} if last and last.valid and last.outputs else {}
            valid = all(i.valid for i in body.order)
            return Interface(inputs, outputs, valid and bool(items))
        if not body.ports:
            self.report(
                Diagnostic(
                    "E220",
                    f"block `{body.decl.name}` is wired with arrows but declares no inputs or outputs",
                    body.decl.name_span,
                    "",
                    help="declare them: `input x` and `output y`, and connect them with arrows",
                )
            )
            return Interface({}, {}, False)
        if len(declared_in) == len(declared_out) == 1 and body.passes.get(declared_out[0], ("",))[0] == declared_in[0]:
            return Interface({}, {}, True, identity=True)
        for name, (source, item) in body.passes.items():
            # Through empty repetitions from an input to an output, in a block of more ports: it
            # would be no layers between some of them, which an instance cannot be.
            self._report_empty(body, item, item, BlockPort(source, "input"))
            body.quiet_ports.update((source, name))
        for name in declared_out:
            if name not in body.outputs and name not in body.quiet_ports:
                self.report(
                    Diagnostic(
                        "E221",
                        f"the output `{name}` of block `{body.decl.name}` is never produced",
                        body.ports[name][1],
                        "",
                        help=f"connect a layer to it: `some_layer -> {name}`",
                    )
                )
        for name in declared_in:
            if not body.inputs.get(name) and name not in body.quiet_ports:
                self.report(
                    Diagnostic(
                        "E222",
                        f"the input `{name}` of block `{body.decl.name}` is never used",
                        body.ports[name][1],
                        "",
                        help=f"connect it: `{name} -> some_layer`",
                        severity=Severity.WARNING,
                    )
                )
        outputs = {name: body.outputs[name] for name in declared_out if name in body.outputs}
        return Interface({name: body.inputs.get(name, []) for name in declared_in}, outputs, len(outputs) == len(declared_out))


@dataclass(frozen=True)
class _Sharing:
    """While expanding an instance that shares another's parameters: the other's name prefix,
    and this one's."""

    owner: str
    prefix: str


def _root(graph: LayerGraph, name: str) -> str:
    """The layer that owns the parameters `name` uses (itself, unless it shares)."""
    layer = graph.get(name)
    return layer.shares if layer is not None and layer.shares else name


def _feeds(block: BlockDecl, feed: Feeds) -> dict[str, Endpoint]:
    """What flows into a block instance's inputs, by the ports' names, where known."""
    first = next((s.names[0] for s in block.body if isinstance(s, Ports) and s.keyword == "input"), "in")
    return {first if port is None else port: source for port, source in feed.items()}


def _fed_by(statements) -> dict[str, dict[str | None, PortRef]]:
    """In a body with arrows: each name that chains feed, by its input port (None: the only or
    first), the same named output wherever they do (`a -> b`, `x -> m/skip`). A port fed
    differently in two places (in two branches) is left out."""
    fed: dict[tuple[str, str | None], PortRef | None] = {}
    for chain in (s for s in _every_statement(statements) if isinstance(s, Chain)):
        for source, destination in itertools.pairwise(chain.nodes):
            if not isinstance(destination, PortRef):
                continue
            key = (destination.layer, destination.port)
            named = isinstance(source, PortRef)
            known = fed.get(key, source if named else None)
            same = named and isinstance(known, PortRef) and (known.layer, known.port) == (source.layer, source.port)
            fed[key] = source if same else None
    result: dict[str, dict[str | None, PortRef]] = {}
    for (name, port), source in fed.items():
        if source is not None:
            result.setdefault(name, {})[port] = source
    return result


def _entry(item: Item) -> Item:
    """What a connection into `item` enters: a repetition that could not be made whole is still
    entered by its first member, where that one could be made (its later members may wait for
    the sizes of the first)."""
    while not item.valid and item.first is not None and item.first.valid:
        item = item.first
    return item


def _inside_condition(decl, span: Span) -> bool:
    """Whether the text at `span` is inside a branch of one of the body's conditions."""
    return any(c.span.start <= span.start < c.span.end for c in _conditions(decl.body))


def _conditions(statements):
    for statement in statements:
        if isinstance(statement, Condition):
            yield statement


def _every_statement(statements):
    """Every statement, also those in either branch of a condition."""
    for statement in statements:
        if isinstance(statement, Condition):
            yield from _every_statement(statement.then + statement.otherwise)
        else:
            yield statement


def _declared_names(statements) -> set[str]:
    return {s.name for s in _every_statement(statements) if isinstance(s, LayerDecl)}


def _mentioned_names(statements) -> set[str]:
    """The names statements declare or connect."""
    chained = {node.layer for s in _every_statement(statements) if isinstance(s, Chain) for node in s.nodes if isinstance(node, PortRef)}
    return _declared_names(statements) | chained


def _join(first: Span, last: Span) -> Span:
    return Span(first.path, first.line, first.column, last.end_line, last.end_column, first.start, last.end)


# Keras' layer names (lower case) whose graphdl kind PyTorch's names do not give.
_KERAS = {
    "dense": "fullyConnected", "maxpooling2d": "maxPooling2d", "averagepooling2d": "averagePooling2d",
    "globalaveragepooling2d": "globalAveragePooling2d", "globalmaxpooling2d": "globalMaxPooling2d", "concatenate": "depthConcatenation",
    "add": "addition", "subtract": "subtraction", "multiply": "multiplication", "conv2dtranspose": "transposedConv2d",
    "separableconv2d": "groupedConvolution2d", "depthwiseconv2d": "groupedConvolution2d",
}


def _pytorch_name(name: str) -> str | None:
    """The graphdl kind that PyTorch or Keras calls `name` (`Conv2d`, `ReLU6`, `relu6`, `Dense`),
    found among the modules and functions the kinds import, then Keras' names, for users who think
    in those names."""
    matches = _pytorch_names(tuple(kinds())).get(name.lower())
    whose = "PyTorch's"
    if not matches and lookup(_KERAS.get(name.lower(), "")) is not None:
        matches, whose = [_KERAS[name.lower()]], "Keras'"
    if not matches:
        return None
    kinds_named = " or ".join(f"`{kind}`" for kind in matches)
    return f"`{name}` is {whose} name: graphdl's is {kinds_named} (`graphdl layers` lists each kind's arguments)"


@functools.lru_cache(maxsize=4)
def _pytorch_names(registered: tuple) -> dict[str, list[str]]:
    """PyTorch's names (lower case) of the modules and functions the registered kinds import, to
    the kinds; made once for a registry (a kind registered later makes another)."""
    index: dict[str, set[str]] = {}
    for kind in registered:
        for path in kind.importers:
            index.setdefault(path.rsplit(".", 1)[-1].lower(), set()).add(kind.name)
    return {name: sorted(found) for name, found in index.items()}
