"""Decodes a Perfetto trace written by `octopus run --trace-format perfetto` with the protobuf
definitions of the PyPI `perfetto` package and compares it with the JSON trace of the same run.

Usage: python scripts/pftrace_check.py trace.pftrace trace.json
Prints one JSON object: the counts of both, the task flows the Perfetto trace starts and never
ends (every flow ends: where its block starts, or at its rejection), and the slices that differ
(at most 5), e.g.
{"slices": [1445, 1445], "instants": [354, 354], "counters": [1754, 1754], "flows": [120, 120],
 "open_flows": 0, "tracks": 27,
 "compressed_chunks": 2, "unclosed": 0, "mismatches": []}
"""
import collections
import json
import sys
import zlib

from perfetto.protos.perfetto.trace import perfetto_trace_pb2

proto_path, json_path = sys.argv[1], sys.argv[2]


chunks = 0


def packets(data):
    """Every packet of a Trace, with `compressed_packets` chunks inflated in place (as Perfetto does)."""
    global chunks
    for packet in perfetto_trace_pb2.Trace.FromString(data).packet:
        if packet.HasField("compressed_packets"):
            chunks += 1
            yield from packets(zlib.decompress(packet.compressed_packets))
        else:
            yield packet


all_packets = list(packets(open(proto_path, "rb").read()))
events = json.load(open(json_path))["traceEvents"]
clock_mhz = json.load(open(json_path))["otherData"]["clock_mhz"]

names, categories, tracks = {}, {}, {}
slices, instants, counters = [], 0, 0
flows_started, flows_ended = [], []
open_slices = collections.defaultdict(list)
for packet in all_packets:
    for entry in packet.interned_data.event_names:
        names[entry.iid] = entry.name
    for entry in packet.interned_data.event_categories:
        categories[entry.iid] = entry.name
    if packet.HasField("track_descriptor"):
        d = packet.track_descriptor
        tracks[d.uuid] = d.thread.thread_name or d.process.process_name or d.name
    if not packet.HasField("track_event"):
        continue
    e = packet.track_event
    if e.type == perfetto_trace_pb2.TrackEvent.TYPE_SLICE_BEGIN:
        open_slices[e.track_uuid].append((packet.timestamp, names[e.name_iid], categories.get(e.category_iids[0]) if e.category_iids else None))
    elif e.type == perfetto_trace_pb2.TrackEvent.TYPE_SLICE_END:
        start, name, category = open_slices[e.track_uuid].pop()
        slices.append((tracks[e.track_uuid], start, packet.timestamp - start, name, category))
    elif e.type == perfetto_trace_pb2.TrackEvent.TYPE_INSTANT:
        instants += 1
        flows_started.extend(e.flow_ids)
        flows_ended.extend(e.terminating_flow_ids)
    elif e.type == perfetto_trace_pb2.TrackEvent.TYPE_COUNTER:
        counters += 1 + len(e.extra_counter_values)

# JSON: X slices with thread names from the M events; counters count one per argument.
thread_names = {(m["pid"], m["tid"]): m["args"]["name"] for m in events if m["ph"] == "M" and m["name"] == "thread_name"}
json_slices = sorted(
    (thread_names[(x["pid"], x["tid"])], round(float(x["ts"]) * 1000), round(float(x["dur"]) * 1000), x["name"], x["cat"])
    for x in events if x["ph"] == "X")
json_instants = sum(1 for x in events if x["ph"] in "isf")
json_counters = sum(len(x["args"]) for x in events if x["ph"] == "C")
proto_slices = sorted(slices)
mismatches = [[list(a), list(b)] for a, b in zip(proto_slices, json_slices) if a != b][:5]
print(json.dumps({
    "slices": [len(proto_slices), len(json_slices)], "instants": [instants, json_instants],
    "counters": [counters, json_counters],
    "flows": [len(flows_started), sum(1 for x in events if x["ph"] == "s")],
    "open_flows": len(set(flows_started) - set(flows_ended)), "tracks": len(tracks), "compressed_chunks": chunks, "unclosed": sum(len(v) for v in open_slices.values()),
    "mismatches": mismatches}))
