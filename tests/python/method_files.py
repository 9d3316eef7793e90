#!/usr/bin/env python3
"""Per-model activation files that say how each model was made, written with numpy alone.

Usage: method_files.py OUT_DIR
Writes ref.npz (no method: `external`), student.npz (method="distill", parameter=4.0,
parameter_name="temperature": np.savez stores the strings as 0-d unicode arrays), rank.npz
(np.savez_compressed, method="lowrank", parameter=0.25 without a name) and quant.safetensors
(method "gptq", parameter "4", parameter_name "bits" in the header's __metadata__, written by
hand from the format's definition). All float32, N = 40 samples of 3 classes.
"""
import json, os, struct, sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(3)
N, D, K = 40, 12, 3
y = np.arange(N) % K
proto = rng.normal(size=(K, D)) * 2.0
feat = np.maximum(proto[y] + rng.normal(size=(N, D)), 0).astype(np.float32)
w = rng.normal(size=(D, K)).astype(np.float32)

def model(noise):
    f = (feat + noise * rng.normal(size=feat.shape)).astype(np.float32)
    return f, (f @ w + 2.0 * np.eye(K, dtype=np.float32)[y]).astype(np.float32)

f, lg = model(0.0)
np.savez(os.path.join(out, "ref.npz"), feat=f, logits=lg, labels=y.astype(np.int64))
f, lg = model(0.3)
np.savez(os.path.join(out, "student.npz"), feat=f, logits=lg, method="distill",
         parameter=4.0, parameter_name="temperature")
f, lg = model(0.8)
np.savez_compressed(os.path.join(out, "rank.npz"), feat=f, logits=lg, method="lowrank",
                    parameter=np.float64(0.25))
f, lg = model(1.5)
tensors = {"feat": f, "logits": lg}
header, offset, body = {}, 0, b""
for name, t in tensors.items():
    data = np.ascontiguousarray(t, dtype="<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    offset += len(data)
    body += data
header["__metadata__"] = {"method": "gptq", "parameter": "4", "parameter_name": "bits"}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(os.path.join(out, "quant.safetensors"), "wb") as fh:
    fh.write(struct.pack("<Q", len(text)) + text + body)
