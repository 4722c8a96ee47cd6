"""Compare `octopus pea` with SCALE-Sim 3.0.0 layer by layer (run by scripts/scalesim-compare).

For several array shapes and all three dataflows, writes a SCALE-Sim config with ample bandwidth
(so neither tool stalls) and GEMM and convolution topologies, runs SCALE-Sim from Python (with
save_disk_space, as its command line writes huge traces), runs `octopus pea` on the same files,
and compares SCALE-Sim's Total Cycles with our compute cycles, and its three utilisation columns
with ours. Exits 1 on any mismatch.
"""
import contextlib
import csv
import io
import os
import subprocess
import sys
import tempfile

from scalesim.scale_sim import scalesim

CONFIG = """[general]
run_name = octopus_compare

[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : 1024
FilterSramSzkB : 1024
OfmapSramSzkB : 1024
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 100000
Dataflow : {dataflow}
ReadRequestBuffer : 32
WriteRequestBuffer : 32

[layout]
IfmapCustomLayout : False
FilterCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 10
IfmapSRAMBankPort : 2
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 10
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : USER
UseRamulatorTrace : False
"""

ARRAYS = [(4, 4), (8, 4), (3, 5), (16, 16), (32, 8)]
GEMMS = [(1, 1, 1), (4, 4, 8), (5, 9, 8), (16, 4, 3), (33, 17, 20), (64, 64, 64), (7, 100, 3), (100, 7, 50), (1, 300, 64), (200, 1, 9)]
CONVS = [  # name, H, W, FH, FW, C, filters, stride
    ("conv3x3", 16, 16, 3, 3, 8, 16, 1), ("conv_s2", 17, 17, 3, 3, 4, 8, 2), ("pointwise", 8, 8, 1, 1, 32, 24, 1),
    ("conv7x7_s2", 30, 30, 7, 7, 3, 16, 2), ("DPconv", 10, 10, 3, 3, 3, 1, 1),
]


def write_topologies(directory):
    gemm = os.path.join(directory, "gemm.csv")
    with open(gemm, "w") as f:
        f.write("Layer, M, N, K,\n")
        for i, (m, n, k) in enumerate(GEMMS):
            f.write(f"g{i}, {m}, {n}, {k},\n")
    conv = os.path.join(directory, "conv.csv")
    with open(conv, "w") as f:
        f.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n")
        for row in CONVS:
            f.write(", ".join(str(x) for x in row) + ",\n")
    return [(gemm, True), (conv, False)]


def run_scalesim(config, topology, is_gemm, directory):
    out = tempfile.mkdtemp(dir=directory)
    sim = scalesim(save_disk_space=True, verbose=False, config=config, topology=topology, layout=topology,
                   input_type_gemm=is_gemm)
    with contextlib.redirect_stdout(io.StringIO()):
        sim.run_scale(top_path=out)
    for root, _, files in os.walk(out):
        if "COMPUTE_REPORT.csv" in files:
            with open(os.path.join(root, "COMPUTE_REPORT.csv")) as f:
                rows = list(csv.reader(f))
            return [[c.strip() for c in r] for r in rows[1:]]
    raise RuntimeError("SCALE-Sim wrote no COMPUTE_REPORT.csv")


def run_octopus(binary, config, topology, directory):
    report = os.path.join(directory, "octopus.csv")
    subprocess.run([binary, "pea", "--config", config, "--topology", topology, "--csv", report],
                   check=True, stdout=subprocess.DEVNULL)
    with open(report) as f:
        rows = list(csv.reader(f))
    header = [c.strip() for c in rows[0]]
    return [dict(zip(header, [c.strip() for c in r])) for r in rows[1:]]


def main():
    binary = os.path.abspath(sys.argv[1])
    compared, mismatches = 0, 0
    with tempfile.TemporaryDirectory() as directory:
        topologies = write_topologies(directory)
        for rows, cols in ARRAYS:
            for dataflow in ("os", "ws", "is"):
                config = os.path.join(directory, f"a{rows}x{cols}{dataflow}.cfg")
                with open(config, "w") as f:
                    f.write(CONFIG.format(rows=rows, cols=cols, dataflow=dataflow))
                for topology, is_gemm in topologies:
                    theirs = run_scalesim(config, topology, is_gemm, directory)
                    ours = run_octopus(binary, config, topology, directory)
                    if len(theirs) != len(ours):
                        print(f"MISMATCH {rows}x{cols} {dataflow} {os.path.basename(topology)}: "
                              f"SCALE-Sim has {len(theirs)} rows, octopus {len(ours)}")
                        mismatches += 1
                        continue
                    for t, o in zip(theirs, ours):
                        compared += 1
                        # SCALE-Sim 3: LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, util columns.
                        cycles_ok = int(t[2]) == int(o["Compute Cycles"]) and int(t[3]) == 0 and int(o["Stall Cycles"]) == 0
                        utils = [(float(t[4]), float(o["Overall Util %"])), (float(t[5]), float(o["Mapping Efficiency %"])),
                                 (float(t[6]), float(o["Compute Util %"]))]
                        utils_ok = all(abs(a - b) <= 1e-6 * max(1.0, abs(a)) for a, b in utils)
                        if not (cycles_ok and utils_ok):
                            mismatches += 1
                            print(f"MISMATCH {rows}x{cols} {dataflow} {o['Layer']} (M={o['M']} N={o['N']} K={o['K']}): "
                                  f"SCALE-Sim cycles {t[2]} stall {t[3]} utils {t[4:7]}; octopus cycles {o['Compute Cycles']} "
                                  f"stall {o['Stall Cycles']} utils {[u for _, u in utils]}")
    print(f"scalesim-compare: {compared} layers on {len(ARRAYS)} arrays x 3 dataflows compared with SCALE-Sim 3.0.0, "
          f"{mismatches} mismatches")
    print(f"scalesim-compare: {compared - mismatches} passed, {mismatches} failed")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
