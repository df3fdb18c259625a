#!/usr/bin/env python3
# Validation alone, python3-jsonschema: the same schema and instances as
# bench.c, the validator built once, is_valid() in a loop for SECONDS.
#   bench-jsonschema.py SECONDS SCHEMA INSTANCE...

import json
import os
import sys
import time

import jsonschema

seconds = float(sys.argv[1])
with open(sys.argv[2], encoding='utf-8') as f:
    schema = json.load(f)

cls = jsonschema.validators.validator_for(schema)
validator = cls(schema)

for name in sys.argv[3:]:
    with open(name, encoding='utf-8') as f:
        instance = json.load(f)
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(100):
            valid = validator.is_valid(instance)
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    print('%s %d %s' % (os.path.basename(name), round(n / elapsed),
                        'valid' if valid else 'invalid'))
