"""Drive a running wafer through its control socket with pyzmq (the README's example).

Usage: python3 examples/control.py [CONTROL_ENDPOINT]   (default tcp://127.0.0.1:5571)
"""
import json
import sys

import zmq

endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:5571"
sock = zmq.Context().socket(zmq.REQ)
sock.connect(endpoint)


def ctl(**request):
    sock.send_string(json.dumps(request))
    return json.loads(sock.recv_string())


print(ctl(cmd="inject", workflow="speech-cascade", count=50,
          arrival={"process": "poisson", "mean_interval_cycles": 8000}, seed=7))
print(ctl(cmd="status")["requests"])
print(ctl(cmd="drain"))
print(ctl(cmd="launch"))  # an unknown command gets an error reply; the wafer keeps running
