"""Drives a Jupyter kernel through jupyter_client, one JSON command per stdin line.

Used by test/kernel.test.ts to talk the real Jupyter protocol (ZeroMQ, HMAC, comms) to the
flowlens kernel. Each command line is a JSON object with an "op"; each answer is one JSON line
on stdout: {"ok": true, ...} or {"ok": false, "error": "..."}. Binary buffers travel as base64.

ops:
  start    {kernel_name, cwd?}     KernelManager.start_kernel + wait_for_ready
  execute  {code, timeout?}        execute_request; returns shell reply + iopub messages up to idle
  send     {msg_type, content, metadata?, buffers?, timeout?}
                                    any shell message (comm_msg, comm_open, comm_info_request...);
                                    returns iopub up to idle, and the shell reply for *_request
  drain    {timeout?}              iopub messages arriving within `timeout` seconds
  batch    {codes, timeout?}       sends every execute_request at once (as Run All does); returns all
                                    shell replies and iopub messages until the last idle, in arrival
                                    order, each with its arrival time `t` (seconds)
  interrupt {code | send: {msg_type, content}, wait_for, timeout?}
                                    executes `code` (or sends the shell message `send`), waits until its stdout contains `wait_for`, then
                                    interrupts the kernel (KernelManager.interrupt_kernel); returns the
                                    reply, the iopub messages up to idle and `interrupted_after` (s)
  restart  {}                       restart_kernel + wait_for_ready
  shutdown {}
"""
import base64
import json
import sys
import time
import traceback
from queue import Empty

from jupyter_client import KernelManager

km = None
kc = None


def out(obj):
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


def simplify(msg):
    return {
        "msg_type": msg["header"]["msg_type"],
        "msg_id": msg["header"]["msg_id"],
        "parent_msg_id": msg.get("parent_header", {}).get("msg_id"),
        "parent_msg_type": msg.get("parent_header", {}).get("msg_type"),
        "metadata": msg.get("metadata", {}),
        "content": msg["content"],
        "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in msg.get("buffers", [])],
    }


def iopub_until_idle(msg_id, timeout):
    msgs = []
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError("no idle status for %s within %ss; got %s" % (msg_id, timeout, [m["msg_type"] for m in msgs]))
        try:
            m = kc.get_iopub_msg(timeout=left)
        except Empty:
            continue
        s = simplify(m)
        msgs.append(s)
        if s["msg_type"] == "status" and s["parent_msg_id"] == msg_id and s["content"]["execution_state"] == "idle":
            return msgs


def shell_reply(msg_id, timeout):
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError("no shell reply for %s" % msg_id)
        m = kc.get_shell_msg(timeout=left)
        if m["parent_header"].get("msg_id") == msg_id:
            return simplify(m)


def handle(cmd):
    global km, kc
    op = cmd["op"]
    timeout = cmd.get("timeout", 60)
    if op == "start":
        km = KernelManager(kernel_name=cmd["kernel_name"])
        km.start_kernel(cwd=cmd.get("cwd"))
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=timeout)
        return {}
    if op == "execute":
        msg_id = kc.execute(cmd["code"])
        reply = shell_reply(msg_id, timeout)
        return {"msg_id": msg_id, "reply": reply, "iopub": iopub_until_idle(msg_id, timeout)}
    if op == "send":
        msg = kc.session.msg(cmd["msg_type"], cmd.get("content", {}), metadata=cmd.get("metadata", {}))
        buffers = [base64.b64decode(b) for b in cmd.get("buffers", [])]
        kc.session.send(kc.shell_channel.socket, msg, buffers=buffers)
        msg_id = msg["header"]["msg_id"]
        res = {"msg_id": msg_id}
        if cmd["msg_type"].endswith("_request"):
            res["reply"] = shell_reply(msg_id, timeout)
        res["iopub"] = iopub_until_idle(msg_id, timeout)
        return res
    if op == "drain":
        msgs = []
        deadline = time.time() + cmd.get("timeout", 1)
        while time.time() < deadline:
            try:
                msgs.append(simplify(kc.get_iopub_msg(timeout=max(0.01, deadline - time.time()))))
            except Empty:
                pass
        return {"iopub": msgs}
    if op == "batch":
        ids = [kc.execute(code) for code in cmd["codes"]]
        t0 = time.time()
        deadline = t0 + timeout
        events, replies, last_idle = [], set(), False
        while len(replies) < len(ids) or not last_idle:
            if time.time() > deadline:
                raise TimeoutError("batch: got %d of %d replies" % (len(replies), len(ids)))
            for channel, get in (("shell", kc.get_shell_msg), ("iopub", kc.get_iopub_msg)):
                try:
                    m = get(timeout=0.005)
                except Empty:
                    continue
                s = simplify(m)
                s["channel"] = channel
                s["t"] = time.time() - t0
                events.append(s)
                if channel == "shell" and s["parent_msg_id"] in ids:
                    replies.add(s["parent_msg_id"])
                if channel == "iopub" and s["msg_type"] == "status" and s["parent_msg_id"] == ids[-1] and s["content"]["execution_state"] == "idle":
                    last_idle = True
        return {"msg_ids": ids, "events": events}
    if op == "interrupt":
        if "send" in cmd:  # another shell message than execute_request, e.g. a comm_msg
            msg = kc.session.msg(cmd["send"]["msg_type"], cmd["send"].get("content", {}))
            kc.session.send(kc.shell_channel.socket, msg)
            msg_id = msg["header"]["msg_id"]
        else:
            msg_id = kc.execute(cmd["code"])
        deadline = time.time() + timeout
        msgs, seen = [], ""
        while cmd["wait_for"] not in seen:
            if time.time() > deadline:
                raise TimeoutError("interrupt: %r never appeared on stdout; got %s" % (cmd["wait_for"], [m["msg_type"] for m in msgs]))
            try:
                s = simplify(kc.get_iopub_msg(timeout=0.1))
            except Empty:
                continue
            msgs.append(s)
            if s["msg_type"] == "stream" and s["parent_msg_id"] == msg_id:
                seen += s["content"]["text"]
        t0 = time.time()
        km.interrupt_kernel()
        reply = shell_reply(msg_id, timeout) if "send" not in cmd else None
        rest = iopub_until_idle(msg_id, timeout)
        after = time.time() - t0
        return {"msg_id": msg_id, "reply": reply, "iopub": msgs + rest, "interrupted_after": after}
    if op == "restart":
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=timeout)
        return {}
    if op == "shutdown":
        kc.stop_channels()
        km.shutdown_kernel(now=False)
        return {}
    raise ValueError("unknown op %r" % op)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            res = handle(cmd)
            res["ok"] = True
            out(res)
        except Exception as e:  # report every failure to the test, keep serving
            out({"ok": False, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()})
    if km is not None and km.is_alive():
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
