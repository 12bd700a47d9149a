#!/usr/bin/python3
"""An XMPP user in a 1:1 chat for the bridge's tests, on slixmpp (Debian's python3-slixmpp).

Logs in over c2s without TLS and prints READY, then one line for each message from --to:
MSG <body>, CORRECTION <body> (XEP-0308), RETRACTED <the retracted line's body> (XEP-0424),
REACTIONS <the line's body> | <keys, space-separated> (XEP-0444), REPLY <body> | <the answered
line> (XEP-0461), STATE <chat state> (XEP-0085, without a body), ERROR <condition>. It takes
its orders from lines appended to --commands: "say <text>", "correct <text>" (of its last
"say"), "retract" (its last "say"), "react <keys>" (to the last line --to said; none: take
them back), "state <composing|active|paused>". Each order done prints DID <verb>. Anything
wrong prints FAIL and exits 1.
"""
import asyncio
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXMLMask

from scripted_user import ScriptedUser, run, say


class ChatUser(ScriptedUser):
    def __init__(self, args):
        super().__init__(args)
        self.lines = {}  # id the sender gave a line -> its body
        self.last_said = None
        self.last_heard = None
        self.add_event_handler("session_start", self.on_start)
        # Every message: the core's "message" event needs a <body/>, and chat states and
        # reactions have none.
        self.register_handler(Callback("any message", MatchXMLMask("<message xmlns='jabber:client'/>"),
                                       self.on_message))

    async def on_start(self, _event):
        self.send_presence()
        say("READY")
        asyncio.ensure_future(self.follow_commands())

    def on_message(self, msg):
        if msg["type"] == "error":
            say("ERROR " + str(msg["error"]["condition"]))
            return
        if msg["from"].bare != self.args.to:
            return
        x = msg.xml
        replace = x.find("{urn:xmpp:message-correct:0}replace")
        retract = x.find("{urn:xmpp:message-retract:1}retract")
        reactions = x.find("{urn:xmpp:reactions:0}reactions")
        reply = x.find("{urn:xmpp:reply:0}reply")
        if retract is not None:
            say("RETRACTED %s" % self.lines.get(retract.get("id")))
        elif reactions is not None:
            keys = [r.text or "" for r in reactions.findall("{urn:xmpp:reactions:0}reaction")]
            say("REACTIONS %s | %s" % (self.lines.get(reactions.get("id")), " ".join(keys)))
        elif replace is not None:
            self.lines[replace.get("id")] = msg["body"]
            say("CORRECTION %s" % msg["body"])
        elif msg["body"]:
            self.lines[msg["id"]] = msg["body"]
            self.last_heard = msg["id"]
            if reply is not None:
                say("REPLY %s | %s" % (msg["body"], self.lines.get(reply.get("id"))))
            else:
                say("MSG %s" % msg["body"])
        else:
            for state in ("composing", "paused", "active", "inactive", "gone"):
                if x.find("{http://jabber.org/protocol/chatstates}" + state) is not None:
                    say("STATE " + state)

    async def obey(self, verb, rest):
        msg = self.make_message(mto=self.args.to, mtype="chat")
        msg["id"] = self.new_id()
        if verb == "say":
            msg["body"] = rest
            self.last_said = msg["id"]
            self.lines[msg["id"]] = rest
        elif verb == "correct":
            msg["body"] = rest
            msg.append(ET.fromstring("<replace xmlns='urn:xmpp:message-correct:0' id='%s'/>" % self.last_said))
        elif verb == "retract":
            msg.append(ET.fromstring("<retract xmlns='urn:xmpp:message-retract:1' id='%s'/>" % self.last_said))
        elif verb == "react":
            reactions = ET.Element("{urn:xmpp:reactions:0}reactions", {"id": self.last_heard})
            for key in rest.split():
                ET.SubElement(reactions, "{urn:xmpp:reactions:0}reaction").text = key
            msg.append(reactions)
        elif verb == "state":
            msg.append(ET.Element("{http://jabber.org/protocol/chatstates}" + rest))
        else:
            self.fail("unknown order " + verb)
        msg.send()
        say("DID " + verb)


def main():
    def arguments(parser):
        parser.add_argument("--to", required=True)

    run(ChatUser, arguments)


if __name__ == "__main__":
    main()
