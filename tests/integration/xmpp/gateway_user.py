#!/usr/bin/python3
"""An XMPP user of the bridge's gateway MUC service, on slixmpp, seeing stanzas as they come.

Unlike muc_user.py it uses no MUC plugin: the test checks what a client receives, in order.
It prints one line per stanza from the component's rooms:
  PRESENCE <nick> <available|unavailable> codes=<status codes, sorted, comma-separated> jid=<item jid> id=<id>
  SUBJECT <subject>
  MSG <nick> <body> | id=<id> sid=<stanza-id the room gave>
  HISTORY <nick> <body> | stamp=<its XEP-0203 delay stamp> sid=<stanza-id the room gave>
  ERROR <condition> <from>
Orders, appended to --commands: "disco <jid>" (prints DISCO <jid> | <category/type/name;…> |
<features, sorted, space-separated>), "items <jid>" (disco#items: ITEMS <jid> | <how many>), "join <room>/<nick> [<maxstanzas>]" (prints JOINING <id>;
with a number, asks for at most that many lines of history),
"say <room> <text>" (prints SENT <id>), "correct <room> <text>" (XEP-0308, of the last line said), "leave <room>/<nick>", "ping <room>/<nick>" (XEP-0410:
PONG, or ERROR), "quit". Each prints DID <verb> when done. Anything wrong prints FAIL, exit 1.
"""
import xml.etree.ElementTree as ET
import asyncio

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from scripted_user import ScriptedUser, run, say

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "{http://jabber.org/protocol/muc#user}"
DISCO = "{http://jabber.org/protocol/disco#info}"
STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


def condition(stanza):
    error = stanza.xml.find("{jabber:client}error")
    if error is None:
        return "none"
    for child in error:
        if child.tag.startswith(STANZAS) and not child.tag.endswith("}text"):
            return child.tag[len(STANZAS):]
    return "undefined-condition"


class GatewayUser(ScriptedUser):
    def __init__(self, args):
        super().__init__(args)
        self.sent = 0
        self.add_event_handler("session_start", self.on_start)
        self.register_handler(Callback("room presence", MatchXPath("{jabber:client}presence"), self.on_presence))
        self.register_handler(Callback("room message", MatchXPath("{jabber:client}message"), self.on_message))

    async def on_start(self, _event):
        self.send_presence()
        asyncio.ensure_future(self.follow_commands())

    def from_room(self, stanza):
        return stanza["from"].domain == self.args.component

    def on_presence(self, pres):
        if not self.from_room(pres):
            return
        if pres["type"] == "error":
            say("ERROR %s %s" % (condition(pres), pres["from"]))
            return
        x = pres.xml.find(MUC_USER + "x")
        codes = sorted(s.get("code") for s in x.findall(MUC_USER + "status")) if x is not None else []
        item = x.find(MUC_USER + "item") if x is not None else None
        say("PRESENCE %s %s codes=%s jid=%s id=%s" % (
            pres["from"].resource, "unavailable" if pres["type"] == "unavailable" else "available",
            ",".join(codes), item.get("jid", "") if item is not None else "", pres["id"]))

    def on_message(self, msg):
        if not self.from_room(msg):
            return
        if msg["type"] == "error":
            say("ERROR %s %s" % (condition(msg), msg["from"]))
        elif msg.xml.find("{jabber:client}subject") is not None and not msg["body"]:
            say("SUBJECT " + msg["subject"])
        elif msg["body"]:
            sid = ""
            for s in msg.xml.findall("{urn:xmpp:sid:0}stanza-id"):
                if s.get("by") == msg["from"].bare:
                    sid = s.get("id")
            delay = msg.xml.find("{urn:xmpp:delay}delay")
            if delay is not None:
                say("HISTORY %s %s | stamp=%s sid=%s" % (msg["from"].resource, msg["body"], delay.get("stamp"), sid))
            else:
                say("MSG %s %s | id=%s sid=%s" % (msg["from"].resource, msg["body"], msg["id"], sid))

    def next_id(self):
        self.sent += 1
        return "%s-%d" % (self.boundjid.user, self.sent)

    async def obey(self, verb, rest):
        if verb == "disco":
            iq = self.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#info", ito=rest)
            try:
                answer = await iq.send(timeout=10)
                query = answer.xml.find(DISCO + "query")
                identities = sorted("%s/%s/%s" % (i.get("category"), i.get("type"), i.get("name"))
                                    for i in query.findall(DISCO + "identity"))
                features = sorted(f.get("var") for f in query.findall(DISCO + "feature"))
                say("DISCO %s | %s | %s" % (rest, ";".join(identities), " ".join(features)))
            except IqError as e:
                say("ERROR %s %s" % (condition(e.iq), rest))
            except IqTimeout:
                self.fail("disco#info of %s unanswered" % rest)
        elif verb == "items":
            iq = self.make_iq_get(queryxmlns="http://jabber.org/protocol/disco#items", ito=rest)
            try:
                answer = await iq.send(timeout=10)
                query = answer.xml.find("{http://jabber.org/protocol/disco#items}query")
                say("ITEMS %s | %d" % (rest, len(list(query))))
            except IqError as e:
                say("ERROR %s %s" % (condition(e.iq), rest))
            except IqTimeout:
                self.fail("disco#items of %s unanswered" % rest)
        elif verb == "join":
            occupant, _, most = rest.partition(" ")
            pres = self.make_presence(pto=occupant)
            pres["id"] = self.next_id()
            x = ET.fromstring("<x xmlns='%s'/>" % MUC)
            if most:
                ET.SubElement(x, "{%s}history" % MUC, {"maxstanzas": most})
            pres.append(x)
            say("JOINING " + pres["id"])
            pres.send()
        elif verb == "say":
            room, _, text = rest.partition(" ")
            msg = self.make_message(mto=room, mbody=text, mtype="groupchat")
            msg["id"] = self.last_said = self.next_id()
            say("SENT " + msg["id"])
            msg.send()
        elif verb == "correct":
            room, _, text = rest.partition(" ")
            msg = self.make_message(mto=room, mbody=text, mtype="groupchat")
            msg["id"] = self.next_id()
            msg.append(ET.fromstring("<replace xmlns='urn:xmpp:message-correct:0' id='%s'/>" % self.last_said))
            msg.send()
        elif verb == "leave":
            self.make_presence(pto=rest, ptype="unavailable").send()
        elif verb == "ping":
            iq = self.make_iq_get(ito=rest)
            iq.append(ET.fromstring("<ping xmlns='urn:xmpp:ping'/>"))
            try:
                await iq.send(timeout=10)
                say("PONG " + rest)
            except IqError as e:
                say("ERROR %s %s" % (condition(e.iq), rest))
            except IqTimeout:
                self.fail("ping of %s unanswered" % rest)
        elif verb == "quit":
            say("DID quit")
            self.disconnect()
            return False
        say("DID " + verb)


def main():
    def arguments(parser):
        parser.add_argument("--component", required=True)

    run(GatewayUser, arguments)


if __name__ == "__main__":
    main()
