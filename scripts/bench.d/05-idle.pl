# What loading the module costs where no lgsp_* directive applies: the
# same empty_gif with nginx that has not loaded the module at all (the
# true baseline), and with it loaded but no lgsp_* directive anywhere.

use strict;
use warnings;

my $empty_gif = <<'EOF_HTTP';
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { empty_gif; }
    }
EOF_HTTP

(
    {
        name => 'empty_gif, module not loaded',
        http => $empty_gif,
        path => '/x',
        load_module => 0,
    },
    {
        name => 'empty_gif, module loaded, no LGSP directive',
        http => $empty_gif,
        path => '/x',
        baseline => 'empty_gif, module not loaded',
    },
    {
        # another server is the LGSP's: the handlers are installed, and
        # this location's requests pass them by
        name => 'empty_gif, LGSP in another server',
        http => $empty_gif . <<'EOF_HTTP',
    server {
        listen 127.0.0.1:%%PORT_1%%;
        lgsp_service MOJ.BENCH.BESIDE;
        lgsp_transaction_log %%DIR%%/logs/transactions.jsonl;
        location / { empty_gif; }
    }
EOF_HTTP
        path => '/x',
        baseline => 'empty_gif, module not loaded',
    },
);
