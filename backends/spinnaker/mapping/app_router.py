"""app_router: PACMAN 1!7.4.1's application router (``router_algorithms/application_router.py``
``route_application_graph``, the spinnaker.cfg default) on snnc's vertices.

sPyNNaker routes per application partition: every sending application vertex (population,
spike source, DelayExtension) with its edges to target application vertices. Each partition
gets one shared tree: from one source chip (the first of its slices) along the
longest-dimension-first path to one chip of each target application vertex, trimmed to start
at the last source chip or tree chip on it and to end at the first target chip, then
breadth-first over the target's own chips to all of them (``_route_to_xys``); every source
chip reaches the source chips where that tree starts by a breadth-first route over source
chips. A self-connected source routes each source chip over the source's chips instead.

Entries (``_convert_a_route``) are keyed by source: on a chip holding a target slice or a
tree root, one per machine vertex (its route: the tree's links plus the cores of the target
slices that take that vertex's spikes); elsewhere (chips between source and target) one per
application vertex, with its application key and mask. Two routes of one source on one chip
are OR-ed (``RoutingEntry.merge``). Table order is the order of insertion
(``MulticastRoutingTableByPartition``), partition by partition.

Here a machine vertex is its vertex id (int) and an application vertex its name (str); the
machine is snnc's ``Machine`` (no wrap-around, every link between existing chips present).
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from snnc.errors import MappingError

from .machine import LINKS, Machine, opposite
from .vertices import Partition


@dataclass
class Graph:
    """What the router reads of sPyNNaker's application graph."""

    partitions: list  # [(source application vertex, [target application vertices])]
    out_going: dict  # application vertex -> its machine vertices (slice order)
    incoming: dict  # (source, target) -> [(target vertex, [source vertices feeding it])]
    where: dict  # machine vertex -> (x, y, p)
    app_of: dict  # machine vertex -> its application vertex


def graph(part: Partition, where: dict) -> Graph:
    """The partitions in ``get_app_partitions`` order: sources in the order of their first
    projection (each with its targets in projection order, its DelayExtension last), then the
    DelayExtensions in the order ``DelaySupportAdder`` made them (with the targets that need
    them)."""
    targets: dict[str, list] = {}
    for b in part.blocks:
        tgts = targets.setdefault(b.proj.source, [])
        if b.proj.target not in tgts:
            tgts.append(b.proj.target)
    partitions = [(src, tgts + ([part.delays[src].app] if src in part.delays else []))
                  for src, tgts in targets.items()]
    for src, tgts in targets.items():
        if src in part.delays:
            partitions.append((part.delays[src].app, [t for t in tgts if _delayed(part, src, t)]))
    slices: dict[str, list] = {}
    for v in part.vertices:
        slices.setdefault(v.app, []).append(v.core)
    blocks: dict[tuple, list] = {}
    for b in part.blocks:
        blocks.setdefault((b.proj.source, b.proj.target), []).append(b)
    out_going = {app: slices[app] for app, _ in partitions}
    incoming = {(src, tgt): _incoming(part, slices, blocks, src, tgt)
                for src, tgts in partitions for tgt in tgts}
    app_of = {v: app for app, vs in out_going.items() for v in vs}
    return Graph(partitions, out_going, incoming, where, app_of)


def _delayed(part: Partition, src: str, tgt: str) -> bool:
    """The edge src -> tgt needs the DelayExtension (``_check_delay_values``)."""
    return src in part.delays and any(
        int(b.proj.delay.max(initial=0)) > part.spans[tgt] for b in part.blocks
        if b.proj.source == src and b.proj.target == tgt)


def _incoming(part: Partition, slices: dict, blocks: dict, src: str, tgt: str) -> list:
    """``get_source_specific_in_coming_vertices(src)`` of ``tgt``: a DelayExtension takes
    each slice of its source (``SplitterDelayVertexSlice``); a population every slice, each
    with the slices of src that have a synapse (any delay) into it in some projection from
    src's population (``SplitterPopulationVertexFixed``, ``FromListConnector``)."""
    if any(plan.app == tgt for plan in part.delays.values()):
        return [(d, [s]) for s, d in zip(slices[src], slices[tgt])]
    pre = next((p.source for p in part.delays.values() if p.app == src), src)
    srcs = slices[src]
    feeding: list[dict] = [{} for _ in slices[tgt]]  # ordered sets, per projection
    for b in blocks.get((pre, tgt), ()):
        into: list[set] = [set() for _ in feeding]
        for pairs in (b.direct, b.delayed):
            for s, t in pairs.tolist():
                into[t].add(s)
        for t, got in enumerate(into):
            feeding[t].update(dict.fromkeys(srcs[s] for s in sorted(got)))
    return [(t, list(f)) for t, f in zip(slices[tgt], feeding)]


# -- routes: trees of chips ----------------------------------------------------------------------

@dataclass(eq=False)
class Node:
    """``RoutingTree``: a chip and its (link, next node) children."""

    chip: tuple
    children: list = field(default_factory=list)


class Targets:
    """``_Targets``: per source machine vertex, the cores and links it targets on a chip."""

    def __init__(self) -> None:
        self.by_source: dict = defaultdict(lambda: ([], []))

    def ensure_source(self, source) -> None:
        if source not in self.by_source:
            self.by_source[source] = ([], [])

    def add(self, core, sources) -> None:
        """``add_(machine_)sources_for_target`` with machine-vertex sources (FromList)."""
        for s in sources:
            self.by_source[s][0].append(core)


def _over(xy: tuple, link: int) -> tuple:
    """``xy_over_link`` of a machine without wrap-around (the chip need not exist)."""
    return xy[0] + LINKS[link][0], xy[1] + LINKS[link][1]


def _vector(a: tuple, b: tuple) -> tuple[int, int, int]:
    """``NoWrapMachine.get_vector`` (``Machine._minimize_vector``)."""
    x, y = b[0] - a[0], b[1] - a[1]
    if x > 0 and y > 0:
        return (x - y, 0, -y) if x > y else (0, y - x, -x)
    if x < 0 and y < 0:
        return (x - y, 0, -y) if x < y else (0, y - x, -x)
    return x, y, 0


def ldf(vector: tuple, start: tuple) -> list[tuple[int, tuple]]:
    """``longest_dimension_first`` / ``vector_to_nodes``: (link, chip) steps, the largest
    component first (ties in x, y, z order); z > 0 is south-west."""
    steps, xy = [], start
    for dim, n in sorted(enumerate(vector), key=lambda d: abs(d[1]), reverse=True):
        link = ((0, 3), (2, 5), (4, 1))[dim][0 if n > 0 else 1]
        for _ in range(abs(n)):
            xy = _over(xy, link)
            steps.append((link, xy))
    return steps


def _ok(machine: Machine, xy: tuple, node: tuple) -> bool:
    return machine.over(xy, node[0]) == node[1] if xy in machine.exists else False


def _without_errors(machine: Machine, source: tuple, nodes: list) -> list:
    """``_path_without_errors``: broken stretches replaced by ``_find_path``, loops cut."""
    here, pos, out = source, 0, []
    while pos < len(nodes):
        while pos < len(nodes) and _ok(machine, here, nodes[pos]):
            out.append(nodes[pos])
            here = nodes[pos][1]
            pos += 1
        nxt, there = pos, here
        while nxt < len(nodes) and not _ok(machine, there, nodes[nxt]):
            there = nodes[nxt][1]
            nxt += 1
        if nxt != pos:
            out += _find_path(machine, here, there)
        here, pos = there, nxt
    return _without_loops(source, out)


def _without_loops(start: tuple, nodes: list) -> list:
    """``_path_without_loops``."""
    seen, i = {start: 0}, 0
    while i < len(nodes):
        if nodes[i][1] in seen:
            last = seen[nodes[i][1]]
            del nodes[last:i + 1]
            i = last
        else:
            i += 1
            seen[nodes[i - 1][1]] = i
    return nodes


def _find_path(machine: Machine, a: tuple, b: tuple) -> list:
    """``_find_path``: breadth-first (link, chip) steps from a to b over existing chips."""
    todo, visited = deque([(a, [])]), set()
    while todo:
        xy, path = todo.popleft()
        if xy in visited:
            continue
        visited.add(xy)
        if xy == b:
            return path
        for link in range(6):
            nxt = machine.over(xy, link) if xy in machine.exists else None
            if nxt is not None and nxt not in visited:
                todo.append((nxt, path + [(link, nxt)]))
    raise MappingError(f"no route between chips {a} and {b} on the machine")


def route_to_xys(machine: Machine, first: tuple, allowed: set, routes: dict, targets) -> None:
    """``_route_to_xys``: breadth-first from ``first`` over the ``allowed`` chips; the path
    to each target chip joins ``routes`` (cut where it meets a chip already routed)."""
    todo, visited, left = deque([(first, [])]), set(), set(targets)
    while todo:
        xy, path = todo.popleft()
        left.discard(xy)
        if xy in visited:
            continue
        visited.add(xy)
        if xy in routes:
            path = []
        elif xy in targets:
            routes[xy] = last = Node(xy)
            for parent, link in reversed(path):
                if parent not in routes:
                    routes[parent] = Node(parent)
                routes[parent].children.append((link, last))
                last = routes[parent]
            path = []
        for link in range(6):
            nxt = machine.over(xy, link)
            if nxt is not None and nxt in allowed and nxt not in visited:
                todo.append((nxt, path + [(xy, link)]))
    if left:
        raise MappingError(f"chips {sorted(left)} cannot be reached from {first}")


def _reachable(machine: Machine, source: tuple, allowed: set, blocked: set) -> set:
    """``_find_reachable``: chips reached from source over allowed, not through blocked."""
    todo, visited = deque([source]), set()
    while todo:
        xy = todo.pop()
        if xy in visited:
            continue
        visited.add(xy)
        for link in range(6):
            nxt = machine.over(xy, link)
            if (nxt is not None and nxt in allowed and nxt not in visited
                    and nxt not in blocked):
                todo.append(nxt)
    return visited


def pre_to_post(machine: Machine, source: tuple, dest: tuple, routes: dict, sources: set,
                target_xys: set) -> tuple[tuple, tuple]:
    """``_route_pre_to_post``: the LDF path from source to dest, from its last chip in the
    source or the routes to its first chip in the target, joined to the routes."""
    nodes = _without_errors(machine, source, ldf(_vector(source, dest), source))
    pre = source
    for i, (_, xy) in reversed(list(enumerate(nodes))):
        if xy in sources or xy in routes:
            nodes, pre = nodes[i + 1:], xy
            break
    if pre not in routes:
        routes[pre] = Node(pre)
    post = dest
    for i, (_, xy) in enumerate(nodes):
        if xy in target_xys:
            nodes, post = nodes[:i + 1], xy
            break
    node = routes[pre]
    for link, xy in nodes:
        if xy in routes:
            raise MappingError(f"the route from {source} to {dest} meets chip {xy} twice")
        routes[xy] = nxt = Node(xy)
        node.children.append((link, nxt))
        node = nxt
    return pre, post


# -- one partition -------------------------------------------------------------------------------

@dataclass
class _Partition:
    """The state ``route_application_graph`` keeps while routing one partition."""

    source: str
    mappings: dict  # chip -> [(machine vertex, processor)] (``_get_outgoing_mapping``)
    all_xys: set
    edge_xys: set = field(default_factory=set)
    routes: dict = field(default_factory=dict)  # chip -> Node
    targets: dict = field(default_factory=lambda: defaultdict(Targets))
    self_xys: set = field(default_factory=set)


def route_partition(g: Graph, machine: Machine, tables: dict, source: str, targets: list
                    ) -> None:
    """``route_application_graph`` for one partition: its entries added to ``tables``
    (chip -> {source: [route, defaultable]})."""
    mappings: dict = defaultdict(list)
    for v in g.out_going[source]:
        mappings[g.where[v][:2]].append((v, g.where[v][2]))
    if not mappings:
        return
    st = _Partition(source, mappings, {g.where[v][:2] for v in g.out_going[source]})
    first = next(iter(mappings))
    self_connected = False
    for target in targets:
        if target != source:
            _source_to_target(g, machine, st, first, target)
        else:
            self_connected = True
            for tgt, srcs in g.incoming[source, source]:
                xy = g.where[tgt][:2]
                st.targets[xy].add(g.where[tgt][2], srcs)
                st.self_xys.add(xy)
    for xy in st.edge_xys:  # _make_source_to_target_routes
        if xy not in st.targets:
            edge = Targets()
            for mapped in st.mappings.values():
                for v, _ in mapped:
                    edge.ensure_source(v)
            st.targets[xy] = edge
        convert(g, tables, source, None, st.routes[xy], st.targets, ensure_all=True)
    for xy, mapped in st.mappings.items():  # _make_source_to_source(_edge)_routes
        own: dict = {}
        if self_connected:
            route_to_xys(machine, xy, st.all_xys | st.self_xys, own, st.edge_xys | st.self_xys)
        else:
            route_to_xys(machine, xy, st.all_xys, own, st.edge_xys)
        for v, p in mapped:
            convert(g, tables, v, p, own[xy], st.targets if self_connected else {},
                    own_targets=self_connected)


def _source_to_target(g: Graph, machine: Machine, st: _Partition, first: tuple,
                      target: str) -> None:
    """``_route_source_to_target`` and its single / multiple source-edge cases."""
    found = g.incoming[st.source, target]
    real: set = set()
    for tgt, srcs in found:
        xy = g.where[tgt][:2]
        st.targets[xy].add(g.where[tgt][2], srcs)
        real.add(xy)
    if len(real) == 1:
        target_xys, target_xy, overlaps = {xy}, xy, None
    else:
        target_xys = {g.where[t][:2] for t, _ in found}
        target_xy, overlaps = _find_target_xy(target_xys, st.routes, st.mappings)
    edge_xy, target_edge = pre_to_post(machine, first, target_xy, st.routes, st.all_xys,
                                       target_xys)
    if not overlaps:
        route_to_xys(machine, target_edge, target_xys, st.routes, real)
        if edge_xy in st.mappings:
            st.edge_xys.add(edge_xy)
        return
    reached = set(overlaps)
    for overlap in overlaps:
        chips = _reachable(machine, overlap, target_xys, reached)
        these = {xy for xy in real if xy in chips}
        route_to_xys(machine, overlap, chips, st.routes, these)
        st.edge_xys.add(overlap)
        for xy in these:
            real.remove(xy)
            target_xys.remove(xy)
        reached.update(chips)
    route_to_xys(machine, target_edge, target_xys, st.routes, real)


def _find_target_xy(target_xys: set, routes: dict, mappings: dict) -> tuple:
    """``_find_target_xy``: a target chip that is a source chip, else one already routed."""
    overlaps = target_xys.intersection(mappings)
    if overlaps:
        return next(iter(overlaps)), (overlaps if len(overlaps) > 1 else None)
    xy = None
    for xy in target_xys:
        if xy in routes:
            return xy, None
    return xy, None


def convert(g: Graph, tables: dict, source, processor, first: Node, targets: dict,
            ensure_all: bool = False, own_targets: bool = False) -> None:
    """``_convert_a_route``: an entry per chip of the tree from ``first`` (``processor``:
    the source core on the first chip, else it arrives by a link)."""
    todo = [(processor, None, first)]
    while todo:
        proc, arrival, node = todo.pop()
        links = [link for link, _ in node.children]
        todo += [(None, opposite(link), nxt) for link, nxt in node.children]
        if node.chip not in targets:
            _add(g, tables, node.chip, source, links, [], proc, arrival)
            continue
        chip = targets[node.chip]
        by_source = ([(source, chip.by_source[source])] if own_targets
                     else list(chip.by_source.items()))
        for src, (cores, more_links) in by_source:
            _add(g, tables, node.chip, src, links + more_links, cores, proc, arrival)
        if ensure_all:
            for v in g.out_going[source]:
                if v not in chip.by_source:
                    _add(g, tables, node.chip, v, links, [], proc, arrival)


def _add(g: Graph, tables: dict, chip: tuple, source, links: list, cores: list, processor,
         arrival) -> None:
    """``RoutingEntry`` + ``add_path_entry``: a second route of a source is OR-ed in.
    Defaultable as PACMAN's (from a link, out by the opposite one only), and with no core:
    a router's default route delivers to none."""
    route = sum(1 << link for link in set(links)) + sum(1 << (6 + p) for p in set(cores))
    default = (arrival is not None and processor is None and len(links) == 1
               and links[0] == opposite(arrival) and not cores)
    entries = tables.setdefault(chip, {})
    clash = ([v for v in g.out_going[source] if v in entries] if isinstance(source, str)
             else [a for a in (g.app_of[source],) if a in entries])
    if clash:
        raise MappingError(f"chip {chip}: routes by machine and by application vertex for "
                           f"the same source ({source})")
    old = entries.get(source)
    if old is None or old == [route, default]:
        entries[source] = [route, default]
    else:
        entries[source] = [route | old[0], False]


def route_application_graph(g: Graph, machine: Machine) -> dict:
    """Every partition routed: chip -> {source: [route, defaultable]} in insertion order."""
    tables: dict = {}
    for source, targets in g.partitions:
        route_partition(g, machine, tables, source, targets)
    return tables
