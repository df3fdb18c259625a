// Conversion alone, fast-xml-parser 4 (npm, installed by run.sh into the
// build folder): the same documents and conversions as bench.c; prints
// "CASE OPS_PER_S".
//
//   node bench-fxp.js SECONDS REQUEST.json ANSWER.xml

'use strict';

const fs = require('fs');
const { XMLParser, XMLBuilder } = require('fast-xml-parser');

const [seconds, requestPath, answerPath] = process.argv.slice(2);
const request = fs.readFileSync(requestPath, 'utf8');
const answer = fs.readFileSync(answerPath, 'utf8');

const parser = new XMLParser({ ignoreAttributes: false,
                               attributeNamePrefix: '@',
                               removeNSPrefix: true,
                               parseTagValue: false,
                               parseAttributeValue: false });
const builder = new XMLBuilder({ ignoreAttributes: false,
                                 attributeNamePrefix: '@',
                                 suppressEmptyNode: true });

function jsonToSoap(text) {
    const doc = JSON.parse(text);
    return '<?xml version="1.0" encoding="UTF-8"?>' + builder.build({
        'soap:Envelope': {
            '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
            'soap:Body': {
                TraCuu: Object.assign({ '@xmlns': 'urn:lgsp:test:hotich' },
                                      doc) } } });
}

function soapToJson(text) {
    const doc = parser.parse(text);
    const body = doc.Envelope.Body;
    return JSON.stringify(body[Object.keys(body)[0]]);
}

function rate(fn, arg) {
    let n = 0;
    const start = process.hrtime.bigint();
    for (;;) {
        for (let i = 0; i < 20; i++) {
            fn(arg);
        }
        n += 20;
        const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
        if (elapsed >= Number(seconds)) {
            return n / elapsed;
        }
    }
}

console.log('json_to_soap ' + Math.round(rate(jsonToSoap, request)));
console.log('soap_to_json ' + Math.round(rate(soapToJson, answer)));
