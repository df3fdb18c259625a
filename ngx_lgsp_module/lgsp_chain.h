/*
 * LGSP on nginx: the hash chain of transaction records, nginx-free.
 *
 * The canonical form of a line of the log:
 *
 *     {"seq":N,...members...,"prev":"PREV","hash":"HASH"}\n
 *
 * PREV is the HASH of the line before (64 zeros for the first line of a
 * chain), HASH the SHA-256, in lowercase hex, of the line's bytes from its
 * "{" up to and including the closing quote of PREV: the line's content and
 * the hash of the line before.  "seq" counts the lines of the chain from 1.
 *
 * A checkpoint is a line of the chain too; its members
 *
 *     "checkpoint":{"seq":S,"head":"H","key":"K"},"sig":"B64"
 *
 * carry an Ed25519 signature of "lgsp-checkpoint-v1 S H": S and H are the
 * seq and HASH of the line before the checkpoint (so H equals its PREV), K
 * names the signing key: the first 16 hex digits of the SHA-256 of its raw
 * public key.
 */

#ifndef LGSP_CHAIN_H
#define LGSP_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>


#define LGSP_CHAIN_HASH_HEX    64

/* what lgsp_chain_seal() appends: ,"prev":"PREV","hash":"HASH"}\n */
#define LGSP_CHAIN_SEAL_LEN    (sizeof(",\"prev\":\"\",\"hash\":\"\"}\n") - 1 \
                                + 2 * LGSP_CHAIN_HASH_HEX)

#define LGSP_CHAIN_KEY_ID_HEX  16
#define LGSP_CHAIN_SIG_B64     88     /* base64 of a 64-byte signature */

/* a checkpoint's members, without the leading comma, at most */
#define LGSP_CHAIN_CHECKPOINT_LEN                                            \
    (sizeof("\"checkpoint\":{\"seq\":,\"head\":\"\",\"key\":\"\"},"       \
            "\"sig\":\"\"") - 1                                              \
     + 20 + LGSP_CHAIN_HASH_HEX + LGSP_CHAIN_KEY_ID_HEX + LGSP_CHAIN_SIG_B64)


/*
 * Seals a line: appends PREV (taken from head) and the line's HASH to the
 * body of len bytes, which has LGSP_CHAIN_SEAL_LEN bytes of room after it,
 * and puts HASH into head.  Returns the sealed length, 0 on failure.
 */
size_t lgsp_chain_seal(char *body, size_t len, char *head);

/* the genesis PREV: 64 zeros */
void lgsp_chain_genesis(char *head);

/*
 * Reads seq and HASH from the last complete line of a log's tail (the
 * bytes at the end of the file); 0 when found, -1 when the tail holds no
 * line of the canonical form.
 */
int lgsp_chain_tail(const char *tail, size_t len, uint64_t *seq, char *head);

/*
 * An Ed25519 key from a PEM file: a private key (want_private) or a public
 * key; NULL with a message in err otherwise.
 */
EVP_PKEY *lgsp_chain_load_key(const char *path, int want_private, char *err,
    size_t errlen);

/* K of a key (either half): LGSP_CHAIN_KEY_ID_HEX + 1 bytes with the NUL */
int lgsp_chain_key_id(EVP_PKEY *key, char *id);

/*
 * Writes a checkpoint's members (see above) for the line seq whose HASH is
 * head; returns their length, 0 on failure.  out holds at least
 * LGSP_CHAIN_CHECKPOINT_LEN bytes.
 */
size_t lgsp_chain_checkpoint(EVP_PKEY *key, const char *key_id, uint64_t seq,
    const char *head, char *out);

/* 1 when sig (base64) is key's signature of the checkpoint seq, head */
int lgsp_chain_checkpoint_valid(EVP_PKEY *key, uint64_t seq,
    const char *head, const char *sig, size_t siglen);

/*
 * JSON string content: '"', '\' and control characters escaped, bytes
 * that are not UTF-8 written as \u00XX so a record is always valid JSON
 * and the original bytes can be told.  With dst NULL, returns the length
 * the escaped form needs; else writes it and returns its end.
 */
size_t lgsp_json_escape_len(const unsigned char *src, size_t len);
unsigned char *lgsp_json_escape(unsigned char *dst, const unsigned char *src,
    size_t len);


/* the verifier: feeds the lines of the files in order, then finishes */

typedef enum {
    LGSP_CHAIN_NOT_RECORD = 1,    /* not a line of the canonical form */
    LGSP_CHAIN_ALTERED,           /* content does not match its hash */
    LGSP_CHAIN_RESEALED,          /* hash recomputed: the next line's
                                     PREV does not match it */
    LGSP_CHAIN_REMOVED,           /* seq missing */
    LGSP_CHAIN_INSERTED,          /* a line that does not belong */
    LGSP_CHAIN_REORDERED,         /* a line out of its place */
    LGSP_CHAIN_BAD_CHECKPOINT,    /* signature or head does not verify */
    LGSP_CHAIN_UNKNOWN_KEY        /* checkpoint of another key */
} lgsp_chain_problem_e;


typedef struct {
    lgsp_chain_problem_e    kind;
    unsigned                file;       /* index of the file, from 0 */
    uint64_t                line;       /* line number in it, from 1 */
    char                    text[256];
} lgsp_chain_problem_t;


typedef struct lgsp_chain_verifier_s  lgsp_chain_verifier_t;


/* pubkey may be NULL: checkpoints are then counted, not verified */
lgsp_chain_verifier_t *lgsp_chain_verifier_new(EVP_PKEY *pubkey);
void lgsp_chain_verifier_free(lgsp_chain_verifier_t *v);

/* one line without its "\n"; file and line name it in problems */
void lgsp_chain_verify_line(lgsp_chain_verifier_t *v, unsigned file,
    uint64_t line, const char *text, size_t len);

/* ends the input; returns the problems found, ordered by place */
size_t lgsp_chain_verify_end(lgsp_chain_verifier_t *v,
    lgsp_chain_problem_t **problems);

typedef struct {
    uint64_t                records;
    uint64_t                checkpoints;
    uint64_t                verified;   /* checkpoints whose sig verified */
    uint64_t                first_seq;
    uint64_t                last_seq;
    char                    head[LGSP_CHAIN_HASH_HEX + 1];
} lgsp_chain_summary_t;

void lgsp_chain_verifier_summary(lgsp_chain_verifier_t *v,
    lgsp_chain_summary_t *s);


#endif /* LGSP_CHAIN_H */
