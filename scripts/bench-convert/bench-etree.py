"""Conversion alone, Python's xml.etree + json: the same documents and
the same conversions as bench.c (JSON -> SOAP 1.1 envelope, SOAP answer ->
JSON, repeated elements as arrays, attributes as @ members, xsi:nil as
null); prints "CASE OPS_PER_S".

    python3 bench-etree.py SECONDS REQUEST.json ANSWER.xml
"""

import json
import sys
import time
import xml.etree.ElementTree as ET

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = "urn:lgsp:test:hotich"


def put(parent, name, value):
    if isinstance(value, list):
        for item in value:
            put(parent, name, item)
        return
    e = ET.SubElement(parent, "{%s}%s" % (NS, name))
    if value is None:
        e.set("{%s}nil" % XSI, "true")
    elif isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("@"):
                e.set(k[1:], str(v))
            elif k == "#text":
                e.text = str(v)
            else:
                put(e, k, v)
    elif isinstance(value, bool):
        e.text = "true" if value else "false"
    else:
        e.text = str(value)


def json_to_soap(text):
    doc = json.loads(text)
    env = ET.Element("{%s}Envelope" % SOAP)
    body = ET.SubElement(env, "{%s}Body" % SOAP)
    op = ET.SubElement(body, "{%s}TraCuu" % NS)
    for k, v in doc.items():
        put(op, k, v)
    return ET.tostring(env, encoding="utf-8", xml_declaration=True)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def value(e):
    if e.get("{%s}nil" % XSI) == "true":
        return None
    attrs = {"@" + local(k): v for k, v in e.attrib.items()
             if not k.startswith("{%s}" % XSI)}
    if not attrs and len(e) == 0:
        return e.text or ""
    out = attrs
    if e.text and e.text.strip():
        out["#text"] = e.text
    for c in e:
        name = local(c.tag)
        v = value(c)
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(v)
        else:
            out[name] = v
    return out


def soap_to_json(data):
    env = ET.fromstring(data)
    body = env.find("{%s}Body" % SOAP)
    return json.dumps(value(body[0]), ensure_ascii=False)


def rate(fn, arg, seconds):
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(20):
            fn(arg)
        n += 20
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main():
    seconds = float(sys.argv[1])
    request = open(sys.argv[2], encoding="utf-8").read()
    answer = open(sys.argv[3], "rb").read()
    print("json_to_soap %.0f" % rate(json_to_soap, request, seconds))
    print("soap_to_json %.0f" % rate(soap_to_json, answer, seconds))


main()
