#!/usr/bin/python3
"""An XMPP user in a MUC for the bridge's portal tests, on slixmpp (Debian's python3-slixmpp).

Logs in over c2s without TLS, joins --room as --nick (unlocking it as an instant room when the
join created it), then prints what it sees, one line each: JOINED, PRESENCE <nick> <available|
unavailable>, MSG <nick> <body>, SUBJECT <nick> <subject>, ERROR <condition>, and for a
retraction (XEP-0424) RETRACTED <nick of the line's author> <the line's body>, for reactions
(XEP-0444) REACTIONS <nick> <the line's body> | <each reaction, space-separated>. "react <keys>"
sends reactions (the whole set, space-separated; none: taken back) to the last line someone
else said; "reply <text>" answers that line (XEP-0461, with the XEP-0428 quote fallback), and
a reply prints REPLY <nick> <body> | <the answered line's author> | <the answered line>. It takes its
orders from lines appended to --commands (the test has no pipe to it): "say <text>",
"correct <text>" (of the last "say"), "retract" (the last line the room reflected), "nick <new nick>", "subject <text>", "ban <bare JID>",
"invite <JID>" (a mediated invitation), "leave". A line with a correction (XEP-0308) prints CORRECTION <nick> <body> instead of MSG. Anything wrong prints FAIL and exits 1.
"""
import asyncio
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXMLMask

from scripted_user import ScriptedUser, run, say

MUC_USER = "{http://jabber.org/protocol/muc#user}"


class MucUser(ScriptedUser):
    def __init__(self, args):
        super().__init__(args)
        self.nick = args.nick
        self.lines = {}  # the room's stanza id -> (nick, body) of each line seen
        self.register_plugin("xep_0045")
        self.add_event_handler("session_start", self.on_start)
        # The MUC plugin has the core's "presence" event ignore the room after the first.
        self.add_event_handler("groupchat_presence", self.on_presence)
        self.add_event_handler("presence_error", self.on_presence)
        # Every groupchat message: the MUC plugin's events (and the core's "message") need a
        # <body/>, and reactions have none.
        self.register_handler(Callback("any groupchat", MatchXMLMask("<message xmlns='jabber:client' type='groupchat'/>"),
                                       self.on_groupchat))
        self.add_event_handler("message_error", self.on_error)

    async def on_start(self, _event):
        self.send_presence()
        self["xep_0045"].join_muc(self.args.room, self.nick)
        asyncio.ensure_future(self.follow_commands())

    async def unlock(self):
        iq = self.make_iq_set(ito=self.args.room)
        iq.append(ET.fromstring("<query xmlns='http://jabber.org/protocol/muc#owner'>"
                                "<x xmlns='jabber:x:data' type='submit'/></query>"))
        await iq.send(timeout=5)
        say("UNLOCKED")

    def on_presence(self, pres):
        if pres["from"].bare != self.args.room:
            return
        if pres["type"] == "error":
            say("ERROR " + str(pres["error"]["condition"]))
            return
        x = pres.xml.find(MUC_USER + "x")
        codes = {s.get("code") for s in x.findall(MUC_USER + "status")} if x is not None else set()
        nick = pres["from"].resource
        if "110" in codes and pres["type"] != "unavailable":
            if "201" in codes:
                asyncio.ensure_future(self.unlock())
            say("JOINED " + nick)
            return
        say("PRESENCE %s %s" % (nick, "unavailable" if pres["type"] == "unavailable" else "available"))

    def on_error(self, msg):
        say("ERROR " + str(msg["error"]["condition"]))

    def on_groupchat(self, msg):
        if msg["type"] != "groupchat" or msg["from"].bare != self.args.room:
            return
        nick = msg["from"].resource
        stanza_id = None
        for sid in msg.xml.findall("{urn:xmpp:sid:0}stanza-id"):
            if sid.get("by") == self.args.room:
                stanza_id = sid.get("id")
        if nick == self.nick and stanza_id:
            self.last_stanza_id = stanza_id
        replace = msg.xml.find("{urn:xmpp:message-correct:0}replace")
        retract = msg.xml.find("{urn:xmpp:message-retract:1}retract")
        reactions = msg.xml.find("{urn:xmpp:reactions:0}reactions")
        if reactions is not None:
            _, body = self.lines.get(reactions.get("id"), (None, None))
            keys = [r.text or "" for r in reactions.findall("{urn:xmpp:reactions:0}reaction")]
            say("REACTIONS %s %s | %s" % (nick, body, " ".join(keys)))
        elif retract is not None:
            # Only the author may retract their line (XEP-0424): check it as a client must.
            author, body = self.lines.get(retract.get("id"), (None, None))
            if author == nick:
                say("RETRACTED %s %s" % (nick, body))
            else:
                say("RETRACT-REFUSED %s %s" % (nick, retract.get("id")))
        elif replace is not None:
            say("CORRECTION %s %s" % (nick, msg["body"]))
        elif msg["subject"] and not msg["body"]:
            say("SUBJECT %s %s" % (nick, msg["subject"]))
        elif msg.xml.find("{urn:xmpp:reply:0}reply") is not None:
            reply = msg.xml.find("{urn:xmpp:reply:0}reply")
            author, line = self.lines.get(reply.get("id"), (None, None))
            to_nick = reply.get("to", "").partition("/")[2]
            if to_nick != author:
                say("REPLY-MISMATCH %s says %s, the line's author is %s" % (nick, to_nick, author))
            say("REPLY %s %s | %s | %s" % (nick, msg["body"], author, line))
        elif msg["body"]:
            if stanza_id:
                self.lines[stanza_id] = (nick, msg["body"])
                if nick != self.nick:
                    self.last_other_stanza_id = stanza_id
            say("MSG %s %s" % (nick, msg["body"]))

    async def obey(self, verb, rest):
        if verb == "say":
            msg = self.make_message(mto=self.args.room, mbody=rest, mtype="groupchat")
            self.last_id = msg["id"] = self.new_id()
            msg.send()
        elif verb == "correct":
            msg = self.make_message(mto=self.args.room, mbody=rest, mtype="groupchat")
            msg["id"] = self.new_id()
            msg.append(ET.fromstring("<replace xmlns='urn:xmpp:message-correct:0' id='%s'/>" % self.last_id))
            msg.send()
        elif verb == "nick":
            self.nick = rest
            self.send_presence(pto="%s/%s" % (self.args.room, rest))
        elif verb == "retract":
            msg = self.make_message(mto=self.args.room, mtype="groupchat")
            msg.append(ET.fromstring("<retract xmlns='urn:xmpp:message-retract:1' id='%s'/>"
                                     % self.last_stanza_id))
            msg.send()
        elif verb == "react":
            msg = self.make_message(mto=self.args.room, mtype="groupchat")
            reactions = ET.Element("{urn:xmpp:reactions:0}reactions", {"id": self.last_other_stanza_id})
            for key in rest.split():
                ET.SubElement(reactions, "{urn:xmpp:reactions:0}reaction").text = key
            msg.append(reactions)
            msg.send()
        elif verb == "reply":
            author, line = self.lines[self.last_other_stanza_id]
            quote = "> %s wrote:\n> %s\n" % (author, line)
            msg = self.make_message(mto=self.args.room, mbody=quote + rest, mtype="groupchat")
            msg.append(ET.fromstring("<reply xmlns='urn:xmpp:reply:0' to='%s/%s' id='%s'/>"
                                     % (self.args.room, author, self.last_other_stanza_id)))
            msg.append(ET.fromstring("<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
                                     "<body start='0' end='%d'/></fallback>" % len(quote)))
            msg.send()
        elif verb == "ban":
            await self["xep_0045"].set_affiliation(self.args.room, "outcast", jid=rest, timeout=5)
        elif verb == "subject":
            self["xep_0045"].set_subject(self.args.room, rest)
        elif verb == "invite":
            self["xep_0045"].invite(self.args.room, rest, reason="come and see")
        elif verb == "leave":
            say("DID leave")
            self["xep_0045"].leave_muc(self.args.room, self.nick)
            await asyncio.sleep(0.2)
            self.disconnect()
            return False
        say("DID " + verb)


def main():
    def arguments(parser):
        parser.add_argument("--room", required=True)
        parser.add_argument("--nick", required=True)

    run(MucUser, arguments)


if __name__ == "__main__":
    main()
