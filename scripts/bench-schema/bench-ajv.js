// Validation alone, ajv (Debian's node-ajv): the same schema and instances
// as bench.c, compiled once, validated in a loop for SECONDS.  Debian puts
// ajv in /usr/share/nodejs: run with NODE_PATH=/usr/share/nodejs.
//   node bench-ajv.js SECONDS SCHEMA INSTANCE...
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

const seconds = parseFloat(process.argv[2]);
const schema = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const validate = new Ajv({ allErrors: false }).compile(schema);

for (const file of process.argv.slice(4)) {
    const instance = JSON.parse(fs.readFileSync(file, 'utf8'));

    // let the JIT compile the validator before the clock runs
    for (let k = 0; k < 200000; k++) {
        validate(instance);
    }

    const start = process.hrtime.bigint();
    const limit = BigInt(Math.round(seconds * 1e9));
    let n = 0;
    let valid = false;
    let elapsed = 0n;

    do {
        for (let k = 0; k < 1000; k++) {
            valid = validate(instance);
        }
        n += 1000;
        elapsed = process.hrtime.bigint() - start;
    } while (elapsed < limit);

    console.log(path.basename(file) + ' ' +
                Math.round(n / (Number(elapsed) / 1e9)) + ' ' +
                (valid ? 'valid' : 'invalid'));
}
