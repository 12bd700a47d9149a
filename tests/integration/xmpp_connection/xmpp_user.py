#!/usr/bin/python3
"""A real XMPP user for the component tests, on slixmpp (Debian's python3-slixmpp).

Logs in over c2s without TLS, checks the component answers ping and disco#info, sends one
message to an address at the component and waits for the answer. Each step prints one line
the test waits for (READY, PING, DISCO, SENT, GOT); anything wrong prints FAIL and exits 1.
"""
import argparse
import asyncio
import logging
import sys

import slixmpp


def say(line):
    print(line, flush=True)


class User(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.got = asyncio.Event()
        for plugin in ("xep_0030", "xep_0199"):
            self.register_plugin(plugin)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda _: self.fail("authentication failed"))

    def fail(self, why):
        say("FAIL " + why)
        sys.exit(1)

    async def on_start(self, _event):
        self.send_presence()
        say("READY")
        try:
            rtt = await self["xep_0199"].ping(jid=self.args.component, timeout=5)
            say("PING %s %.3f" % (self.args.component, rtt))
            info = await self["xep_0030"].get_info(jid=self.args.component, timeout=5)
            identities = ["%s/%s" % (i[0], i[1]) for i in info["disco_info"]["identities"]]
            say("DISCO identities=%s features=%s" % (",".join(sorted(identities)),
                                                     ",".join(sorted(info["disco_info"]["features"]))))
        except Exception as e:  # an IQ error or a time-out: the component did not answer right
            self.fail("component did not answer: %r" % (e,))
        self.send_message(mto=self.args.to, mbody=self.args.body, mtype="chat")
        say("SENT")
        try:
            await asyncio.wait_for(self.got.wait(), self.args.timeout)
        except asyncio.TimeoutError:
            self.fail("no answer from %s within %ss" % (self.args.to, self.args.timeout))
        self.disconnect()

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["from"].bare == self.args.to:
            say("GOT " + msg["body"])
            self.got.set()
        elif msg["type"] == "error":
            say("ERROR " + str(msg["error"]["condition"]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--component", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    user = User(args)
    user.connect(("127.0.0.1", args.port), use_ssl=False, force_starttls=False, disable_starttls=True)
    user.loop.run_until_complete(asyncio.wait_for(user.disconnected, args.timeout + 20))
    say("DONE")


if __name__ == "__main__":
    main()
