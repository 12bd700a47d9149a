"""What the XMPP test users (chat_user.py, muc_user.py) share, on slixmpp: lines printed for
the test to read, FAIL and exit on anything wrong, orders read from a file the test appends
to (it has no pipe to them), and the command line and run loop."""
import argparse
import asyncio
import logging
import sys

import slixmpp


def say(line):
    print(line, flush=True)


class ScriptedUser(slixmpp.ClientXMPP):
    """A c2s user that follows the orders in --commands: each complete line "<verb> <rest>" is
    handed to obey(verb, rest) once, in order; obey returns False to stop following."""

    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.add_event_handler("failed_auth", lambda _: self.fail("authentication failed"))

    def fail(self, why):
        say("FAIL " + why)
        sys.exit(1)

    async def obey(self, verb, rest):
        raise NotImplementedError

    async def follow_commands(self):
        done = 0
        while True:
            await asyncio.sleep(0.05)
            try:
                with open(self.args.commands) as f:
                    lines = f.read().split("\n")
            except FileNotFoundError:
                continue
            complete = lines[:-1]  # the last one may be half written
            for line in complete[done:]:
                verb, _, rest = line.partition(" ")
                if await self.obey(verb, rest) is False:
                    return
            done = len(complete)


def run(user_class, add_arguments):
    """Parses the common options and those add_arguments(parser) adds, runs the user until it
    disconnects (FAIL after --timeout), then prints DONE."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--commands", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    add_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    user = user_class(args)
    user.connect(("127.0.0.1", args.port), use_ssl=False, force_starttls=False, disable_starttls=True)
    try:
        user.loop.run_until_complete(asyncio.wait_for(user.disconnected, args.timeout))
    except asyncio.TimeoutError:
        user.fail("still running after %ss" % args.timeout)
    say("DONE")
