// The interactive page of a network (graphdl/views/_page.py inlines this file).
//
// The network arrives as JSON in <script id="network">. Folding a block changes which nodes there
// are, so the page lays the graph out itself, each time the folding changes: a layered
// (Sugiyama-style) layout written here, with no library, since the page must open offline.
//
//   1. nodes: each layer, or the outermost folded group that holds it; edges between them;
//   2. cycles broken (a network with errors may have one) by reversing DFS back edges;
//   3. ranks by longest path, with dummy nodes where an edge spans several ranks;
//   4. order within ranks: declaration order, then barycenter sweeps, keeping the members of an
//      open group side by side (so that its frame holds nothing else), the best order kept;
//   5. x by averaging neighbours, overlaps resolved exactly (isotonic regression); y by rank,
//      with room for the frames' titles;
//   6. drawn as SVG text: frames, edges as smooth paths, nodes, frame titles on top.
"use strict";

(function () {
  const NET = JSON.parse(document.getElementById("network").textContent);

  // ---- the model ------------------------------------------------------------------------------

  const layerByName = new Map(NET.layers.map((layer, i) => [layer.name, Object.assign(layer, { index: i })]));
  const groupByName = new Map(NET.groups.map((group) => [group.name, group]));
  const diagnosticsOf = new Map(); // layer name -> the diagnostics about it
  NET.diagnostics.forEach((d) => d.layers.forEach((name) => push(diagnosticsOf, name, d)));

  // The groups holding a name (a layer's or a group's), outermost first: its dotted prefixes.
  function ancestors(name) {
    const parts = name.split(".");
    const result = [];
    for (let end = 1; end < parts.length; end++) {
      const prefix = parts.slice(0, end).join(".");
      if (groupByName.has(prefix)) result.push(prefix);
    }
    return result;
  }
  const ancestorsOf = new Map([...layerByName.keys(), ...groupByName.keys()].map((name) => [name, ancestors(name)]));
  // An open group whose only part is a group gets no frame of its own: its part's frame, or its
  // part's folded node, would sit alone in it (MobileNet's `stages.0` holds only `stages.0.blocks`,
  // which holds only `stages.0.blocks.0`).
  const framed = (name) => {
    const children = groupByName.get(name).children;
    return !(children.length === 1 && groupByName.has(children[0]));
  };
  const framesOf = new Map([...ancestorsOf].map(([name, list]) => [name, list.filter(framed)]));
  for (const group of NET.groups) {
    group.broken = group.layers.some((name) => layerByName.get(name).broken);
    group.index = layerByName.get(group.layers[0]).index;
  }

  // ---- what the page shows --------------------------------------------------------------------

  const state = {
    open: new Set(), // the groups drawn open
    selected: null, // {type: "layer" | "group", name}
    query: "",
    matchIndex: -1,
    view: { x: 0, y: 0, k: 1 }, // screen = layout * k + (x, y)
    layout: null,
  };

  // The node that draws a layer: itself, or the outermost folded group holding it.
  function drawnAs(name) {
    for (const group of ancestorsOf.get(name)) if (!state.open.has(group)) return group;
    return name;
  }

  function visibleCount(open) {
    const nodes = new Set();
    for (const name of layerByName.keys()) {
      const group = ancestorsOf.get(name).find((g) => !open.has(g));
      nodes.add(group || name);
    }
    return nodes.size;
  }

  // Open the groups depth by depth while the picture stays readable at a glance: ResNet-50 opens
  // its stages into 16 folded blocks, ViT-B/16 its encoder into 12 layers; a small network with
  // few groups shows every layer.
  const READABLE = 50;
  function initialOpen() {
    const open = new Set();
    const deepest = Math.max(0, ...NET.groups.map((g) => g.depth));
    for (let depth = 1; depth <= deepest; depth++) {
      const next = new Set([...open, ...NET.groups.filter((g) => g.depth === depth).map((g) => g.name)]);
      // One node alone says nothing: a network that is one big group opens it whatever its size.
      if (visibleCount(next) > READABLE && visibleCount(open) > 1) break;
      next.forEach((g) => open.add(g));
    }
    return open;
  }

  // ---- layout ---------------------------------------------------------------------------------

  const NODE_GAP = 18; // between neighbouring nodes of a rank
  const DUMMY_GAP = 10; // beside a dummy node (a point an edge passes)
  const FRAME_PAD = 12; // between a frame and what it holds, at the sides and bottom
  const TITLE_BAND = 22; // above a frame's contents, for its title
  const RANK_GAP = 40; // between ranks: room for an edge's size label
  const LINE = 14; // a text line in a node
  const PAD_X = 10;

  const measure = document.createElement("canvas").getContext("2d");
  const FONT = getComputedStyle(document.documentElement).fontFamily;
  function textWidth(text, size, bold) {
    measure.font = `${bold ? "bold " : ""}${size}px ${FONT}`;
    return measure.measureText(text).width;
  }

  function layerLines(layer) {
    const lines = [{ text: layer.name, cls: "name" }, { text: layer.kind, cls: "kind" }];
    if (layer.description) lines.push({ text: layer.description, cls: "detail" });
    if (layer.shares && layer.learnables && Object.keys(layer.learnables).length) lines.push({ text: `shares ${layer.shares}`, cls: "detail" });
    return lines;
  }

  function groupLines(group) {
    const learnables = group.learnables ? ` · ${si(group.learnables)} learnables` : "";
    return [
      { text: group.name, cls: "name" },
      { text: group.kind, cls: "kind" },
      { text: `${count(group.layers.length, "layer")}${learnables}`, cls: "detail" },
    ];
  }

  function makeNode(id) {
    const isGroup = groupByName.has(id);
    const item = isGroup ? groupByName.get(id) : layerByName.get(id);
    const lines = isGroup ? groupLines(item) : layerLines(item);
    const sizes = { name: 12, kind: 11, detail: 10 };
    const width = Math.max(...lines.map((l) => textWidth(l.text, sizes[l.cls], l.cls === "name")));
    return {
      id,
      isGroup,
      item,
      lines,
      order: item.index,
      path: framesOf.get(id), // the frames of open groups it is drawn in, outermost first
      w: Math.max(70, Math.ceil(width) + 2 * PAD_X),
      h: 10 + LINE * lines.length,
      preds: [],
      succs: [],
    };
  }

  function layout() {
    // 1. Nodes and edges. Connections between the same two nodes (into and out of a folded
    // block) make one edge, labelled with the sizes they carry.
    const nodes = new Map();
    for (const name of layerByName.keys()) {
      const id = drawnAs(name);
      if (!nodes.has(id)) nodes.set(id, makeNode(id));
    }
    const edgeByKey = new Map();
    for (const c of NET.connections) {
      const source = drawnAs(c.source);
      const target = drawnAs(c.destination);
      if (source === target) continue;
      const key = `${source}\u0000${target}`;
      if (!edgeByKey.has(key)) edgeByKey.set(key, { source, target, sizes: [], ports: [], connections: [] });
      const edge = edgeByKey.get(key);
      edge.connections.push(c);
      if (c.size && !edge.sizes.includes(c.size)) edge.sizes.push(c.size);
      if (c.showDestinationPort && target === c.destination) edge.ports.push(c.destinationPort);
    }
    const edges = [...edgeByKey.values()];

    // 2. Break cycles: a depth-first search in declaration order; an edge back to a node on the
    // stack is laid out reversed, and drawn dashed.
    const out = new Map([...nodes.keys()].map((id) => [id, []]));
    edges.forEach((e) => out.get(e.source).push(e));
    const mark = new Map();
    for (const start of nodes.keys()) {
      if (mark.has(start)) continue;
      const stack = [[start, 0]];
      mark.set(start, 1);
      while (stack.length) {
        const top = stack[stack.length - 1];
        const outgoing = out.get(top[0]);
        if (top[1] < outgoing.length) {
          const e = outgoing[top[1]++];
          if (mark.get(e.target) === 1) e.back = true;
          else if (!mark.has(e.target)) {
            mark.set(e.target, 1);
            stack.push([e.target, 0]);
          }
        } else {
          mark.set(top[0], 2);
          stack.pop();
        }
      }
    }
    for (const e of edges) {
      e.from = nodes.get(e.back ? e.target : e.source);
      e.to = nodes.get(e.back ? e.source : e.target);
      e.from.succs.push(e);
      e.to.preds.push(e);
    }

    // 3. Ranks: the longest path from a node without inputs, in a topological order (Kahn's).
    const waiting = new Map([...nodes.values()].map((n) => [n, n.preds.length]));
    const ready = [...nodes.values()].filter((n) => n.preds.length === 0);
    const topological = [];
    while (ready.length) {
      const n = ready.pop();
      topological.push(n);
      n.rank = Math.max(0, ...n.preds.map((e) => e.from.rank + 1));
      for (const e of n.succs) {
        waiting.set(e.to, waiting.get(e.to) - 1);
        if (waiting.get(e.to) === 0) ready.push(e.to);
      }
    }
    // A layer without inputs that is not an input layer (a learnt constant, a class token) sits
    // just above its first user, not at the top with a long edge down.
    for (const n of topological.slice().reverse()) {
      if (n.preds.length === 0 && n.succs.length && !(n.item.category === "input")) {
        n.rank = Math.min(...n.succs.map((e) => e.to.rank)) - 1;
      }
    }
    const rankCount = Math.max(0, ...topological.map((n) => n.rank)) + 1;

    // Dummy nodes: an edge spanning several ranks passes one point in each rank between. They
    // belong to the innermost open group holding both ends, so that they stay in its frame.
    const ranks = Array.from({ length: rankCount }, () => []);
    topological.forEach((n) => ranks[n.rank].push(n));
    for (const e of edges) {
      e.chain = [e.from];
      const path = commonPrefix(e.from.path, e.to.path);
      for (let r = e.from.rank + 1; r < e.to.rank; r++) {
        const dummy = { id: null, dummy: true, path, w: 0, h: 0, rank: r, order: e.from.order + 0.5, preds: [], succs: [] };
        ranks[r].push(dummy);
        e.chain.push(dummy);
      }
      e.chain.push(e.to);
      for (let i = 1; i < e.chain.length; i++) {
        e.chain[i - 1].down = e.chain[i - 1].down || [];
        e.chain[i].up = e.chain[i].up || [];
        e.chain[i - 1].down.push(e.chain[i]);
        e.chain[i].up.push(e.chain[i - 1]);
      }
    }
    for (const rank of ranks) for (const n of rank) { n.up = n.up || []; n.down = n.down || []; }

    // 4. Order within ranks: declaration order, then barycenter sweeps down and up.
    ranks.forEach((rank, r) => { ranks[r] = arrange(rank, (n) => n.order); number(ranks[r]); });
    let best = ranks.map((rank) => rank.slice());
    let fewest = crossings(ranks);
    for (let sweep = 0; sweep < 8 && fewest > 0; sweep++) {
      const down = sweep % 2 === 0;
      for (let i = 1; i < rankCount; i++) {
        const r = down ? i : rankCount - 1 - i;
        const neighbours = (n) => (down ? n.up : n.down);
        const key = (n) => (neighbours(n).length ? mean(neighbours(n).map((m) => m.pos)) : n.pos);
        const keys = new Map(ranks[r].map((n) => [n, key(n)]));
        ranks[r] = arrange(ranks[r], (n) => keys.get(n));
        number(ranks[r]);
      }
      const now = crossings(ranks);
      if (now < fewest) {
        fewest = now;
        best = ranks.map((rank) => rank.slice());
      }
    }
    best.forEach((rank, r) => { ranks[r] = rank; number(rank); });

    // 5. x: start packed, then move each node towards the mean of its neighbours, sweeping down
    // and up, each rank kept in order and apart by the gaps its frames need.
    ranks.forEach((rank) => place(rank, rank.map(() => 0)));
    for (let sweep = 0; sweep < 12; sweep++) {
      const down = sweep % 2 === 0;
      for (let i = 0; i < rankCount; i++) {
        const rank = ranks[down ? i : rankCount - 1 - i];
        const wanted = rank.map((n) => {
          const near = [...(down ? n.up : n.down)];
          if (sweep >= 2) near.push(...(down ? n.down : n.up)); // later sweeps balance both sides
          return near.length ? mean(near.map((m) => m.x)) : n.x;
        });
        place(rank, wanted);
      }
    }

    align(ranks);
    straighten(edges, ranks);

    // The runs of ranks each open group has members in. A group is framed once per run: one
    // whose layers come before and after other layers (MobileNet's `features`, around its
    // `stages`) gets a frame for each stretch, so that no frame holds a layer not its own.
    const runs = new Map(); // open group -> [[first rank, last rank], ...]
    for (const rank of ranks) for (const n of rank) for (const g of n.path) {
      const list = runs.get(g) || runs.set(g, []).get(g);
      const last = list[list.length - 1]; // ranks come in order: a run goes on, or a new one starts
      if (last && last[1] >= n.rank - 1) last[1] = n.rank;
      else list.push([n.rank, n.rank]);
    }
    const runOf = (g, r) => runs.get(g).find(([first, last]) => first <= r && r <= last);

    // y: each rank as tall as its tallest node, ranks apart by the gap plus a title band for each
    // frame that opens there and a padding for each that closes.
    const opens = (n) => n.path.filter((g) => runOf(g, n.rank)[0] === n.rank).length;
    const closes = (n) => n.path.filter((g) => runOf(g, n.rank)[1] === n.rank).length;
    let y = 20;
    const rankTop = [];
    const gapMiddle = []; // of the clear gap above each rank, where no frame's line or title is
    const rankHeight = [];
    ranks.forEach((rank, r) => {
      const above = Math.max(0, ...rank.map(opens));
      const belowPrevious = r ? Math.max(0, ...ranks[r - 1].map(closes)) : 0;
      // Under a rank: the paddings of the frames closing, the gap, the titles of those opening.
      y += belowPrevious * FRAME_PAD;
      gapMiddle.push(y + RANK_GAP / 2);
      y += (r ? RANK_GAP : 0) + above * TITLE_BAND;
      rankTop.push(y);
      rankHeight.push(Math.max(12, ...rank.map((n) => n.h)));
      y += rankHeight[r];
      rank.forEach((n) => { n.y = rankTop[r] + rankHeight[r] / 2; });
    });

    // Frames: the box of an open group's run holds its nodes, its dummies and its open groups'
    // frames there.
    const frames = [...runs]
      .flatMap(([name, list]) => list.map((run, part) => ({ name, group: groupByName.get(name), run, part })))
      .sort((a, b) => b.group.depth - a.group.depth);
    const within = (r, run) => run[0] <= r && r <= run[1];
    const boxFrames = () => {
      frames.forEach((f) => { f.box = null; });
      frames.forEach(boxFrame);
    };
    const boxFrame = (f) => {
      let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
      for (const rank of ranks) for (const n of rank) {
        if (n.path[n.path.length - 1] !== f.name || !within(n.rank, f.run)) continue;
        x0 = Math.min(x0, n.x - n.w / 2); x1 = Math.max(x1, n.x + n.w / 2);
        y0 = Math.min(y0, n.dummy ? rankTop[n.rank] : n.y - n.h / 2); y1 = Math.max(y1, n.dummy ? rankTop[n.rank] + rankHeight[n.rank] : n.y + n.h / 2);
      }
      for (const inner of frames) {
        const parents = framesOf.get(inner.name);
        if (!inner.box || parents[parents.length - 1] !== f.name || !within(inner.run[0], f.run)) continue;
        x0 = Math.min(x0, inner.box.x); x1 = Math.max(x1, inner.box.x + inner.box.w);
        y0 = Math.min(y0, inner.box.y); y1 = Math.max(y1, inner.box.y + inner.box.h);
      }
      if (x0 === Infinity) return;
      f.box = { x: x0 - FRAME_PAD + 2, y: y0 - TITLE_BAND + 2, w: x1 - x0 + 2 * FRAME_PAD - 4, h: y1 - y0 + TITLE_BAND + FRAME_PAD - 4 };
    };
    // A frame holds nothing but its own. Members of a group sit side by side in each rank, but a
    // frame spans several ranks, and in one of them a layer outside may stand where the group is
    // wide in another: it moves out sideways, with what is beyond it in its rank, until none is in.
    for (let pass = 0; pass < 8; pass++) {
      boxFrames();
      if (!pushOut(frames, ranks)) break;
    }
    boxFrames();

    // Edge paths: from the bottom of one node to the top of the next; the edges into one node
    // spread along its top edge, in the order of where they come from.
    for (const n of nodes.values()) {
      const incoming = n.preds.slice().sort((a, b) => a.chain[a.chain.length - 2].x - b.chain[b.chain.length - 2].x);
      const step = Math.min(14, n.w / (incoming.length + 1));
      incoming.forEach((e, i) => { e.endX = n.x + (i - (incoming.length - 1) / 2) * step; });
    }
    // An output that feeds several nodes is labelled once, on its most upright edge.
    const labelled = new Map();
    for (const e of edges) {
      const key = `${e.from.id}\u0000${e.sizes.join()}`;
      const other = labelled.get(key);
      const lean = (edge) => Math.abs(edge.chain[1].x - edge.from.x);
      if (!other || lean(e) < lean(other)) labelled.set(key, e);
    }
    labelled.forEach((e) => { e.labelled = true; });
    for (const e of edges) {
      const points = [[e.from.x, e.from.y + e.from.h / 2]];
      for (const d of e.chain.slice(1, -1)) points.push([d.x, rankTop[d.rank]], [d.x, rankTop[d.rank] + rankHeight[d.rank]]);
      points.push([e.endX, e.to.y - e.to.h / 2]);
      e.points = points;
      e.labelY = gapMiddle[e.from.rank + 1];
    }

    // Drawn outer frames first, each level in the order of the network.
    const drawn = frames.filter((f) => f.box).sort((a, b) => a.group.depth - b.group.depth || a.group.index - b.group.index || a.part - b.part);
    // The extent of the drawing, with a margin: `left` is the x drawn at the view's left edge.
    const boxes = [...nodes.values()].map((n) => [n.x - n.w / 2, n.y + n.h / 2, n.x + n.w / 2]);
    drawn.forEach((f) => boxes.push([f.box.x, f.box.y + f.box.h, f.box.x + f.box.w]));
    const left = boxes.length ? Math.min(...boxes.map((b) => b[0])) - 20 : 0;
    const width = Math.max(200, ...boxes.map((b) => b[2] + 20 - left));
    const height = Math.max(60, ...boxes.map((b) => b[1] + 30));
    return { nodes, edges, frames: drawn, left, width, height };
  }

  // Move the items of a rank beside a frame's members out of its box (see the layout); whether
  // any moved.
  function pushOut(frames, ranks) {
    let moved = false;
    for (const f of frames) {
      if (!f.box) continue;
      for (let r = f.run[0]; r <= f.run[1]; r++) {
        const rank = ranks[r];
        const inside = rank.map((n, i) => (n.path.includes(f.name) ? i : -1)).filter((i) => i >= 0);
        if (!inside.length) continue;
        const first = inside[0], last = inside[inside.length - 1];
        const left = rank[first - 1], right = rank[last + 1];
        const overLeft = left ? left.x + left.w / 2 + DUMMY_GAP - f.box.x : 0;
        const overRight = right ? f.box.x + f.box.w + DUMMY_GAP - (right.x - right.w / 2) : 0;
        if (overLeft > 0.5) rank.slice(0, first).forEach((n) => { n.x -= overLeft; });
        if (overRight > 0.5) rank.slice(last + 1).forEach((n) => { n.x += overRight; });
        moved = moved || overLeft > 0.5 || overRight > 0.5;
      }
    }
    return moved;
  }

  // A chain (a layer whose only input comes from a layer it is the only consumer of, or the one
  // of several consumers nearest below) reads best in one straight line: each such layer moves
  // under the one before it where its neighbours leave room.
  function align(ranks) {
    const fits = (rank, i, x) => (i === 0 || x - rank[i - 1].x >= gap(rank[i - 1], rank[i])) && (i === rank.length - 1 || rank[i + 1].x - x >= gap(rank[i], rank[i + 1]));
    for (const rank of ranks) {
      rank.forEach((n, i) => {
        if (n.dummy || n.up.length !== 1) return;
        const above = n.up[0];
        const nearest = above.down.reduce((a, b) => (Math.abs(b.x - above.x) < Math.abs(a.x - above.x) ? b : a));
        if (nearest === n && fits(rank, i, above.x)) n.x = above.x;
      });
    }
  }

  // A long edge reads best straight: its dummies all at one x (that of the middle one, or of
  // either end) where that x keeps each of them in order and apart from its neighbours.
  function straighten(edges, ranks) {
    for (const e of edges) {
      const dummies = e.chain.slice(1, -1);
      if (dummies.length < 2) continue;
      const fits = (x) => dummies.every((d) => {
        const rank = ranks[d.rank];
        const left = rank[d.pos - 1], right = rank[d.pos + 1];
        return (!left || x - left.x >= gap(left, d)) && (!right || right.x - x >= gap(d, right));
      });
      const middle = dummies[Math.floor(dummies.length / 2)].x;
      const x = [middle, e.from.x, e.to.x].find(fits);
      if (x !== undefined) dummies.forEach((d) => { d.x = x; });
    }
  }

  // Order the items of one rank by `key`, the members of each open group kept together: the
  // groups at each level are ordered by the mean key of their members.
  function arrange(items, key, level = 0) {
    const buckets = new Map();
    for (const n of items) {
      const b = n.path.length > level ? n.path[level] : n;
      if (!buckets.has(b)) buckets.set(b, []);
      buckets.get(b).push(n);
    }
    const ordered = [...buckets.entries()].map(([b, members]) => ({
      members: typeof b === "string" ? arrange(members, key, level + 1) : members,
      key: mean(members.map(key)),
      order: Math.min(...members.map((m) => m.order)),
    }));
    ordered.sort((a, b) => a.key - b.key || a.order - b.order);
    return ordered.flatMap((b) => b.members);
  }

  function number(rank) {
    rank.forEach((n, i) => { n.pos = i; });
  }

  function crossings(ranks) {
    let total = 0;
    for (let r = 0; r + 1 < ranks.length; r++) {
      const pairs = [];
      for (const n of ranks[r]) for (const m of n.down) pairs.push([n.pos, m.pos]);
      for (let i = 0; i < pairs.length; i++) {
        for (let j = i + 1; j < pairs.length; j++) {
          if ((pairs[i][0] - pairs[j][0]) * (pairs[i][1] - pairs[j][1]) < 0) total++;
        }
      }
    }
    return total;
  }

  // The gap between two neighbours of a rank: wider by a frame's padding for each frame that
  // closes after the first or opens before the second.
  function gap(a, b) {
    const common = commonPrefix(a.path, b.path).length;
    const frames = a.path.length - common + (b.path.length - common);
    return (a.w + b.w) / 2 + (a.dummy || b.dummy ? DUMMY_GAP : NODE_GAP) + frames * FRAME_PAD;
  }

  // Place a rank's items as near `wanted` as they can be, in order and apart by `gap`: with
  // offsets o (the least distance from the first item), x - o must not decrease, and the closest
  // such sequence in least squares is the isotonic regression of wanted - o (pool adjacent
  // violators).
  function place(rank, wanted) {
    const offset = [0];
    for (let i = 1; i < rank.length; i++) offset.push(offset[i - 1] + gap(rank[i - 1], rank[i]));
    const blocks = []; // [mean, weight, count]
    rank.forEach((n, i) => {
      blocks.push([wanted[i] - offset[i], 1, 1]);
      while (blocks.length > 1 && blocks[blocks.length - 2][0] > blocks[blocks.length - 1][0]) {
        const [m2, w2, c2] = blocks.pop();
        const [m1, w1, c1] = blocks.pop();
        blocks.push([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2]);
      }
    });
    let i = 0;
    for (const [m, , c] of blocks) for (let k = 0; k < c; k++, i++) rank[i].x = m + offset[i];
  }

  // ---- drawing --------------------------------------------------------------------------------

  const svg = document.getElementById("graph");
  const view = document.getElementById("view");

  function draw() {
    const L = (state.layout = layout());
    const parts = [
      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse">',
      '<path d="M0,1 L9,5 L0,9 z" fill="#4b5563"/></marker></defs>',
      '<g id="viewport">',
    ];
    for (const f of L.frames) {
      const b = f.box;
      const cls = f.group.broken ? "frame broken" : "frame";
      parts.push(`<g class="${cls}" data-name="${esc(f.name)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="10"/></g>`);
    }
    for (const e of L.edges) parts.push(edgeMarkup(e));
    for (const n of L.nodes.values()) parts.push(nodeMarkup(n));
    if (!L.nodes.size) parts.push('<text x="20" y="40" fill="#6b7280">This network has no layers.</text>');
    // Titles last, over the edges that enter their frames, each where no edge passes if it can.
    for (const f of L.frames) parts.push(titleMarkup(f, L.edges));
    parts.push("</g>");
    svg.innerHTML = parts.join("");
    markSearch();
    markSelection();
    applyView();
  }

  function nodeMarkup(n) {
    const x = n.x, y = n.y, w = n.w, h = n.h;
    const item = n.item;
    const classes = ["node", n.isGroup ? "folded" : "layer"];
    if (item.broken) classes.push("broken");
    if (!n.isGroup && item.isOutput) classes.push("output");
    const fill = n.isGroup ? (item.broken ? "#fee2e2" : "#f8fafc") : item.broken ? "#fee2e2" : item.fill;
    const stroke = n.isGroup ? (item.broken ? "#dc2626" : "#475569") : item.broken ? "#dc2626" : item.border;
    const dashed = !n.isGroup && item.shares && item.learnables && Object.keys(item.learnables).length ? ' stroke-dasharray="5 3"' : "";
    const parts = [`<g class="${classes.join(" ")}" data-name="${esc(n.id)}" transform="translate(${x} ${y})">`];
    parts.push(`<title>${esc(n.isGroup ? `${n.id} (${item.kind}): click to unfold` : `${n.id} (${item.kind})`)}</title>`);
    if (n.isGroup) {
      // A folded block: a small stack of cards.
      for (const d of [6, 3]) parts.push(`<rect class="stack" x="${-w / 2 + d}" y="${-h / 2 + d}" width="${w}" height="${h}" rx="6" fill="${fill}" stroke="${stroke}"/>`);
    }
    if (classes.includes("output")) parts.push(`<rect class="ring" x="${-w / 2 - 3}" y="${-h / 2 - 3}" width="${w + 6}" height="${h + 6}" rx="8" stroke="${stroke}"/>`);
    parts.push(`<rect class="box" x="${-w / 2}" y="${-h / 2}" width="${w}" height="${h}" rx="6" fill="${fill}" stroke="${stroke}"${dashed}/>`);
    n.lines.forEach((line, i) => {
      const ty = -h / 2 + 5 + LINE * (i + 1) - 3;
      parts.push(`<text class="${line.cls}" x="0" y="${ty}" text-anchor="middle">${esc(line.text)}</text>`);
    });
    parts.push("</g>");
    return parts.join("");
  }

  function edgeMarkup(e) {
    const p = e.points;
    let d = `M${p[0][0]},${p[0][1]}`;
    for (let i = 1; i < p.length; i++) {
      const [x0, y0] = p[i - 1];
      const [x1, y1] = p[i];
      if (x0 === x1) d += ` L${x1},${y1}`;
      else {
        const k = (y1 - y0) / 2;
        d += ` C${x0},${y0 + k} ${x1},${y1 - k} ${x1},${y1}`;
      }
    }
    const marker = e.back ? 'marker-start="url(#arrow)"' : 'marker-end="url(#arrow)"';
    const parts = [`<g class="edge${e.back ? " back" : ""}" data-source="${esc(e.source)}" data-target="${esc(e.target)}"><path d="${d}" ${marker}/>`];
    if (e.sizes.length && e.labelled) {
      // Just right of the line, in the clear gap under the layer whose output it is.
      const [x0, y0] = p[0];
      const [x1, y1] = p[1];
      const y = e.labelY;
      const x = curveX(x0, y0, x1, y1, y) + 5;
      parts.push(`<text x="${x}" y="${y + 3}">${esc(e.sizes.join(", "))}</text>`);
    }
    if (e.ports.length && !e.back) {
      // Beside the arrowhead, on the side it arrives from, clear of its neighbours' names.
      const [x, y] = p[p.length - 1];
      const right = x >= e.to.x;
      parts.push(`<text class="port" x="${x + (right ? 4 : -4)}" y="${y - 4}" text-anchor="${right ? "start" : "end"}">${esc(e.ports.join(", "))}</text>`);
    }
    parts.push("</g>");
    return parts.join("");
  }

  // A frame's title, at its top left, or its top right where an edge would cross it there.
  function titleMarkup(f, edges) {
    const b = f.box;
    const text = `${f.name}${f.part ? " (continued)" : ""}  ·  ${f.group.kind}`;
    const w = textWidth(text, 11, false) + 8;
    const band = [b.y, b.y + TITLE_BAND];
    const crossing = [];
    for (const e of edges) {
      for (let i = 1; i < e.points.length; i++) {
        const [x0, y0] = e.points[i - 1];
        const [x1, y1] = e.points[i];
        if (y0 < band[1] && y1 > band[0]) crossing.push(curveX(x0, y0, x1, y1, (band[0] + band[1]) / 2));
      }
    }
    const clear = (x) => !crossing.some((c) => c > x - 6 && c < x + w + 6);
    let x = b.x + 6;
    if (!clear(x) && clear(b.x + b.w - w - 6)) x = b.x + b.w - w - 6;
    return (
      `<g class="frame-title title" data-name="${esc(f.name)}"><title>${esc(f.name)}: click to fold</title>` +
      `<rect class="hit" x="${x}" y="${b.y + 3}" width="${w}" height="16" rx="3" fill="#fff" fill-opacity="0.9"/>` +
      `<text x="${x + 4}" y="${b.y + 15}" font-size="11" fill="#4b5563">${esc(text)}</text></g>`
    );
  }

  // The x where the edge curve from (x0, y0) to (x1, y1), vertical at both ends, reaches y.
  function curveX(x0, y0, x1, y1, y) {
    if (x0 === x1 || y <= y0) return x0;
    if (y >= y1) return x1;
    let lo = 0, hi = 1;
    for (let i = 0; i < 24; i++) {
      const t = (lo + hi) / 2;
      const yt = y0 + (y1 - y0) * (3 * t * t - 2 * t * t * t); // control points at half height
      if (yt < y) lo = t; else hi = t;
    }
    const t = (lo + hi) / 2;
    return x0 + (x1 - x0) * (3 * t * t - 2 * t * t * t);
  }

  // ---- zoom and pan ---------------------------------------------------------------------------

  function applyView() {
    const g = document.getElementById("viewport");
    if (!g) return;
    const { x, y, k } = state.view;
    g.setAttribute("transform", `translate(${x} ${y}) scale(${k}) translate(${-state.layout.left} 0)`);
  }

  // Fit the whole network in the window; a tall one, too small to read whole, is shown from
  // its top at a readable size.
  function fit() {
    const L = state.layout;
    const vw = view.clientWidth, vh = view.clientHeight;
    // Below about 0.8 the names are too small to read.
    const k = Math.max(Math.min(1, vw / L.width, vh / L.height), Math.min(0.8, vw / L.width));
    state.view = { k, x: Math.max(0, (vw - L.width * k) / 2), y: 0 };
    applyView();
  }

  // Screen position (in the view) of a layout point.
  function toScreen(x, y) {
    const { k } = state.view;
    return [(x - state.layout.left) * k + state.view.x, y * k + state.view.y];
  }

  function centerOn(x, y, k) {
    const vw = view.clientWidth, vh = view.clientHeight;
    state.view.k = k;
    state.view.x = vw / 2 - (x - state.layout.left) * k;
    state.view.y = vh / 2 - y * k;
    applyView();
  }

  view.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = view.getBoundingClientRect();
    const px = event.clientX - rect.left, py = event.clientY - rect.top;
    const v = state.view;
    const k = Math.min(4, Math.max(0.05, v.k * Math.exp(-event.deltaY * (event.deltaMode ? 0.05 : 0.0015))));
    v.x = px - ((px - v.x) * k) / v.k;
    v.y = py - ((py - v.y) * k) / v.k;
    v.k = k;
    applyView();
  }, { passive: false });

  let drag = null;
  let dragged = false; // the click that ends a drag is no click
  view.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    dragged = false;
    drag = { x: event.clientX, y: event.clientY, vx: state.view.x, vy: state.view.y, moved: false, id: event.pointerId };
  });
  view.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return; // a click that wobbles is still a click
    if (!drag.moved) {
      drag.moved = true;
      view.setPointerCapture(drag.id);
      view.classList.add("dragging");
    }
    state.view.x = drag.vx + dx;
    state.view.y = drag.vy + dy;
    applyView();
  });
  const endDrag = () => {
    dragged = Boolean(drag && drag.moved);
    drag = null;
    view.classList.remove("dragging");
  };
  view.addEventListener("pointerup", endDrag);
  view.addEventListener("pointercancel", endDrag);

  // ---- folding, selection, search -------------------------------------------------------------

  // Change the folding, keeping what was clicked where it was on the screen: a folded block
  // opens into a frame whose top is where the block's top was, and back.
  function refold(change, anchorBefore, anchorAfter) {
    const before = anchorBefore && anchorBefore();
    change();
    draw();
    const after = anchorAfter && anchorAfter();
    if (before && after) {
      state.view.x += before[0] - after[0];
      state.view.y += before[1] - after[1];
      applyView();
    }
  }

  const nodeTop = (name) => () => {
    const n = state.layout.nodes.get(name);
    return n && toScreen(n.x, n.y - n.h / 2);
  };
  const frameTop = (name) => () => {
    const f = state.layout.frames.find((frame) => frame.name === name);
    return f && toScreen(f.box.x + f.box.w / 2, f.box.y);
  };

  function unfold(name) {
    state.selected = { type: "group", name };
    refold(() => state.open.add(name), nodeTop(name), frameTop(name));
    showPanel();
  }

  function fold(name) {
    state.selected = { type: "group", name };
    // Folding a group folds what it holds too, so that unfolding it again shows one level.
    refold(() => [...state.open].forEach((g) => (g === name || g.startsWith(name + ".")) && state.open.delete(g)), frameTop(name), nodeTop(name));
    showPanel();
  }

  // Show a layer: unfold the groups holding it, select it, and bring it to the middle.
  function reveal(name) {
    ancestorsOf.get(name).forEach((g) => state.open.add(g));
    state.selected = { type: "layer", name };
    draw();
    const n = state.layout.nodes.get(name);
    centerOn(n.x, n.y, Math.max(state.view.k, 1));
    showPanel();
  }

  svg.addEventListener("click", (event) => {
    if (dragged) {
      dragged = false;
      return;
    }
    const title = event.target.closest(".frame-title");
    if (title) return fold(title.dataset.name);
    const node = event.target.closest(".node");
    if (!node) return;
    const name = node.dataset.name;
    if (groupByName.has(name)) return unfold(name);
    state.selected = { type: "layer", name };
    markSelection();
    showPanel();
  });

  function markSelection() {
    const chosen = state.selected && drawnAsSelected();
    svg.querySelectorAll(".node.selected, .frame.selected").forEach((n) => n.classList.remove("selected"));
    svg.querySelectorAll(".edge.highlight").forEach((e) => e.classList.remove("highlight"));
    if (state.selected && state.selected.type === "group" && state.open.has(state.selected.name)) {
      // An open block selected: its frame, in every stretch.
      svg.querySelectorAll(`.frame[data-name="${cssEscape(state.selected.name)}"]`).forEach((f) => f.classList.add("selected"));
    }
    if (!chosen) return;
    const element = svg.querySelector(`.node[data-name="${cssEscape(chosen)}"]`);
    if (element) element.classList.add("selected");
    svg.querySelectorAll(`.edge[data-source="${cssEscape(chosen)}"], .edge[data-target="${cssEscape(chosen)}"]`).forEach((e) => e.classList.add("highlight"));
  }

  function drawnAsSelected() {
    const { type, name } = state.selected;
    if (type === "layer") return drawnAs(name);
    return state.open.has(name) ? null : drawnAs(groupByName.get(name).layers[0]);
  }

  const search = document.getElementById("search");
  const matchesText = document.getElementById("matches");

  function matches() {
    const q = state.query.toLowerCase();
    return q ? NET.layers.filter((layer) => layer.name.toLowerCase().includes(q)).map((layer) => layer.name) : [];
  }

  function markSearch() {
    const found = matches();
    const drawn = new Set(found.map(drawnAs));
    svg.querySelectorAll(".node").forEach((n) => n.classList.toggle("match", drawn.has(n.dataset.name)));
    matchesText.textContent = state.query ? (found.length ? count(found.length, "layer") : "no layer") : "";
  }

  search.addEventListener("input", () => {
    state.query = search.value.trim();
    state.matchIndex = -1;
    markSearch();
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      search.value = "";
      state.query = "";
      markSearch();
    }
    if (event.key !== "Enter") return;
    const found = matches();
    if (!found.length) return;
    // Enter again: the next match.
    state.matchIndex = (state.matchIndex + (event.shiftKey ? -1 : 1) + found.length) % found.length;
    reveal(found[state.matchIndex]);
  });

  document.getElementById("unfold-all").addEventListener("click", () => {
    state.open = new Set(groupByName.keys());
    draw();
    fit();
  });
  document.getElementById("fold-all").addEventListener("click", () => {
    state.open = new Set();
    draw();
    fit();
  });
  document.getElementById("fit").addEventListener("click", fit);
  window.addEventListener("resize", applyView);

  // ---- the panel and the list of problems -----------------------------------------------------

  const panel = document.getElementById("panel");

  function showPanel() {
    const s = state.selected;
    if (s && s.type === "layer") panel.innerHTML = layerPanel(layerByName.get(s.name));
    else if (s && s.type === "group") panel.innerHTML = groupPanel(groupByName.get(s.name));
    else panel.innerHTML = networkPanel();
  }

  function networkPanel() {
    const errors = NET.diagnostics.filter((d) => d.severity === "error").length;
    return (
      `<h2>${esc(NET.name)}</h2><div class="kind">network${NET.path ? ` in <span class="mono">${esc(NET.path)}</span>` : ""}</div>` +
      table([
        ["layers", NET.layers.length.toLocaleString("en")],
        ["connections", NET.connections.length.toLocaleString("en")],
        ["learnables", NET.learnables.toLocaleString("en")],
        ["FLOPs", `${si(NET.flops)} per observation`],
        ["errors", errors ? String(errors) : "none"],
      ]) +
      '<p class="hint">Click a layer for its details, a folded block to unfold it, the title of an open block to fold it. ' +
      "Scroll to zoom, drag to pan; type in the search box to find a layer, Enter to go to it.</p>"
    );
  }

  function layerPanel(layer) {
    const where = layer.line ? `${layer.path}:${layer.line}` : "";
    const parts = [
      `<h2>${esc(layer.name)}</h2>`,
      `<div class="kind"><span class="swatch" style="background:${layer.fill};border-color:${layer.border}"></span>${esc(layer.kind)}` +
        `${layer.category ? ` <span class="hint">(${esc(layer.category)})</span>` : ""}</div>`,
    ];
    if (layer.description) parts.push(`<div>${esc(layer.description)}</div>`);
    parts.push(diagnosticsMarkup(diagnosticsOf.get(layer.name) || []));
    const rows = [];
    if (where) rows.push(["declared", `<span class="mono" id="where">${esc(where)}</span>`, true]);
    for (const instance of layer.instances) {
      rows.push(["in", `${link(instance.name, "group")} <span class="hint">${esc(instance.block)}, ${esc(instance.path)}:${instance.line}</span>`, true]);
    }
    if (layer.isOutput) rows.push(["output", "an output of the network"]);
    parts.push(table(rows));
    parts.push("<h3>Sizes</h3>");
    if (layer.inputs) {
      parts.push(table([
        ...ported("input", layer.inputs),
        ...ported("output", layer.outputs),
      ], "sizes"));
    } else parts.push('<div class="hint">not known: the layer or what feeds it has an error</div>');
    parts.push("<h3>Learnables</h3>");
    if (layer.shares) parts.push(`<div>shares the parameters of ${link(layer.shares, "layer")}</div>`);
    if (layer.learnables) {
      const entries = Object.entries(layer.learnables);
      parts.push(entries.length
        ? table([...entries.map(([name, size]) => [name, `${size.join("x")} <span class="hint">(${product(size).toLocaleString("en")})</span>`, true]),
          ["total", layer.numLearnables.toLocaleString("en")]], "learnables")
        : '<div class="hint">none</div>');
    } else parts.push('<div class="hint">not known</div>');
    parts.push("<h3>FLOPs</h3>");
    parts.push(layer.flops == null ? '<div class="hint">not known</div>' : `<div id="flops">${si(layer.flops)} <span class="hint">(${layer.flops.toLocaleString("en")}) per observation</span></div>`);
    parts.push("<h3>Arguments</h3>");
    const args = Object.entries(layer.arguments);
    if (layer.category === null && layer.written) parts.push(`<div class="mono">${esc(layer.written)}</div>`);
    else parts.push(args.length ? table(args, "arguments") : '<div class="hint">none</div>');
    const from = NET.connections.filter((c) => c.destination === layer.name);
    const to = NET.connections.filter((c) => c.source === layer.name);
    parts.push("<h3>Connections</h3>");
    parts.push(table([
      ...from.map((c) => [`from${c.showDestinationPort ? ` (${esc(c.destinationPort)})` : ""}`, link(c.source, "layer") + portSuffix(c.showSourcePort, c.sourcePort), true]),
      ...to.map((c) => [`to${c.showSourcePort ? ` (${esc(c.sourcePort)})` : ""}`, link(c.destination, "layer") + portSuffix(c.showDestinationPort, c.destinationPort), true]),
    ]));
    return parts.join("");
  }

  function groupPanel(group) {
    const open = state.open.has(group.name);
    const problems = NET.diagnostics.filter((d) => d.layers.some((name) => group.layers.includes(name)));
    const sizes = (list) => list.map((p) => `${p.size || "?"} <span class="hint">${esc(p.layer)}</span>`).join("<br>") || "-";
    return (
      `<h2>${esc(group.name)}</h2><div class="kind">${esc(group.kind)} <span class="hint">(${open ? "unfolded" : "folded"} block)</span></div>` +
      diagnosticsMarkup(problems) +
      table([
        ["layers", String(group.layers.length)],
        ["learnables", group.learnables.toLocaleString("en")],
        ["FLOPs", `${si(group.flops)} <span class="hint">(${group.flops.toLocaleString("en")})</span>`, true],
        ["in", sizes(group.inputs), true],
        ["out", sizes(group.outputs), true],
      ], "group") +
      `<button type="button" data-action="${open ? "fold" : "unfold"}" data-name="${esc(group.name)}">${open ? "fold" : "unfold"}</button>`
    );
  }

  function diagnosticsMarkup(list) {
    return list.map((d) => `<div class="diagnostic ${d.severity}">${diagnosticText(d)}</div>`).join("");
  }

  function diagnosticText(d) {
    const where = d.line ? `<span class="where">${esc(d.path)}:${d.line}:${d.column}</span> ` : "";
    const help = d.help ? `<div class="help">help: ${esc(d.help)}</div>` : "";
    // The labels' places, as line:column where they are in the diagnostic's own file.
    const place = (l) => `${l.path === d.path ? "" : `${esc(l.path)}:`}${l.line}:${l.column}`;
    const labels = d.labels.map((l) => `<div class="help"><span class="where">${place(l)}</span> ${esc(l.text)}</div>`).join("");
    const notes = d.notes.map((n) => `<div class="help">note: ${esc(n)}</div>`).join("");
    return `<span class="code">${d.severity}[${d.code}]</span> <span class="message">${esc(d.message)}</span><br>${where}${labels}${help}${notes}`;
  }

  panel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) return button.dataset.action === "fold" ? fold(button.dataset.name) : unfold(button.dataset.name);
    const a = event.target.closest("a.layer");
    if (!a) return;
    event.preventDefault();
    if (a.dataset.type === "group") {
      const group = a.dataset.name;
      ancestorsOf.get(group).forEach((g) => state.open.add(g));
      state.selected = { type: "group", name: group };
      draw();
      showPanel();
    } else reveal(a.dataset.name);
  });

  function showProblems() {
    const list = NET.diagnostics;
    if (!list.length) return;
    const section = document.getElementById("problems");
    const errors = list.filter((d) => d.severity === "error").length;
    const warnings = list.length - errors;
    const heading = [errors && count(errors, "error"), warnings && count(warnings, "warning")].filter(Boolean).join(", ");
    const items = list.map((d, i) => {
      // One line each: the help and notes are in the panel of the layer.
      const where = d.line ? ` <span class="where">${esc(d.path)}:${d.line}:${d.column}</span>` : "";
      const on = d.layers.length ? ` <span class="hint">on ${d.layers.map(esc).join(", ")}</span>` : "";
      const message = `<span class="code">${d.severity}[${d.code}]</span> <span class="message">${esc(d.message)}</span>`;
      return `<li class="diagnostic ${d.severity}${d.layers.length ? " linked" : ""}" data-index="${i}">${message}${where}${on}</li>`;
    });
    section.innerHTML = `<h2>${heading}</h2><ol>${items.join("")}</ol>`;
    section.classList.toggle("warnings-only", errors === 0);
    section.hidden = false;
    section.addEventListener("click", (event) => {
      const item = event.target.closest("li.linked");
      if (item) reveal(NET.diagnostics[Number(item.dataset.index)].layers[0]);
    });
  }

  // ---- small helpers --------------------------------------------------------------------------

  function table(rows, id) {
    if (!rows.length) return '<div class="hint">none</div>';
    const body = rows.map(([k, v, raw]) => `<tr><td>${raw === true ? k : esc(k)}</td><td class="value">${raw === true ? v : esc(v)}</td></tr>`);
    return `<table${id ? ` id="${id}"` : ""}>${body.join("")}</table>`;
  }

  // Sizes by port, the port named only where there are several.
  function ported(word, sizes) {
    const entries = Object.entries(sizes);
    return entries.map(([port, size]) => [entries.length > 1 ? `${word} ${port}` : word, size]);
  }

  function link(name, type) {
    return `<a class="layer" href="#" data-type="${type}" data-name="${esc(name)}">${esc(name)}</a>`;
  }

  function portSuffix(show, port) {
    return show ? `<span class="hint">/${esc(port)}</span>` : "";
  }

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function cssEscape(text) {
    return window.CSS && CSS.escape ? CSS.escape(text) : text.replace(/["\\]/g, "\\$&");
  }

  function si(number) {
    for (const [scale, suffix] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
      if (number >= scale) return `${Number((number / scale).toPrecision(3))}${suffix}`;
    }
    return String(number);
  }

  function count(n, noun) {
    return `${n.toLocaleString("en")} ${noun}${n === 1 ? "" : "s"}`;
  }

  function product(sizes) {
    return sizes.reduce((a, b) => a * b, 1);
  }

  function mean(values) {
    return values.reduce((a, b) => a + b, 0) / values.length;
  }

  function commonPrefix(a, b) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return a.slice(0, i);
  }

  function push(map, key, value) {
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(value);
  }

  // ---- start ----------------------------------------------------------------------------------

  document.getElementById("title").innerHTML = `${esc(NET.name)}<span class="path">${esc(NET.path)}</span>`;
  state.open = NET.open ? new Set(NET.open) : initialOpen(); // `--depth` and `--expand` choose, if given
  draw();
  fit();
  showPanel();
  showProblems();
  window.graphdlPage = { state, reveal, unfold, fold, fit }; // for the tests, and the curious at the console
})();
