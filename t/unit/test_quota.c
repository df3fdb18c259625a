/*
 * Unit tests of the quota arithmetic (lgsp_quota.c): rates, fixed windows,
 * all-or-nothing taking, burst, reset times and the RateLimit items.
 */

#include "unit.h"
#include "lgsp_quota.h"


static int
parse(const char *text, lgsp_quota_limit_t *limit)
{
    limit->quota = 77;
    limit->period = 77;
    limit->burst = 0;

    return lgsp_quota_parse_rate(text, strlen(text), limit);
}


static void
test_parse_rate(void)
{
    lgsp_quota_limit_t  l;

    UNIT_EQ_INT(parse("100r/m", &l), LGSP_QUOTA_OK, "100r/m parses");
    UNIT_EQ_INT(l.quota, 100, "100r/m: 100 requests");
    UNIT_EQ_INT(l.period, 60, "100r/m: a 60 s window");

    UNIT_EQ_INT(parse("5r/s", &l), LGSP_QUOTA_OK, "r/s parses");
    UNIT_EQ_INT(l.period, 1, "r/s: a 1 s window");
    UNIT_EQ_INT(parse("5r/h", &l), LGSP_QUOTA_OK, "r/h parses");
    UNIT_EQ_INT(l.period, 3600, "r/h: a 3600 s window");
    UNIT_EQ_INT(parse("10000r/d", &l), LGSP_QUOTA_OK, "r/d parses");
    UNIT_EQ_INT(l.period, 86400, "r/d: an 86400 s window");
    UNIT_EQ_INT(l.quota, 10000, "r/d: the number");

    UNIT_EQ_INT(parse("0r/m", &l), LGSP_QUOTA_OK, "0r/m parses");
    UNIT_EQ_INT(l.quota, 0, "0r/m: a quota of nothing");

    UNIT_EQ_INT(parse("", &l), LGSP_QUOTA_NO_LIMIT, "empty: no limit");
    UNIT_EQ_INT(parse("r/m", &l), LGSP_QUOTA_NO_LIMIT,
                "no number (an empty map value): no limit");

    UNIT_EQ_INT(parse("100r/w", &l), LGSP_QUOTA_BAD_WINDOW,
                "a week is not a window");
    UNIT_EQ_INT(parse("100r/x", &l), LGSP_QUOTA_BAD_WINDOW, "r/x refused");
    UNIT_EQ_INT(parse("100", &l), LGSP_QUOTA_BAD_RATE, "no window refused");
    UNIT_EQ_INT(parse("100/m", &l), LGSP_QUOTA_BAD_RATE, "no r refused");
    UNIT_EQ_INT(parse("100r/mm", &l), LGSP_QUOTA_BAD_RATE,
                "trailing text refused");
    UNIT_EQ_INT(parse("-1r/m", &l), LGSP_QUOTA_BAD_RATE, "negative refused");
    UNIT_EQ_INT(parse(" 1r/m", &l), LGSP_QUOTA_BAD_RATE, "space refused");
    UNIT_EQ_INT(parse("abc", &l), LGSP_QUOTA_BAD_RATE, "words refused");
    UNIT_EQ_INT(parse("99999999999999999999r/s", &l), LGSP_QUOTA_BAD_RATE,
                "overflow refused");
    UNIT_EQ_INT(parse("1000000000000r/d", &l), LGSP_QUOTA_OK,
                "the largest quota parses");
    UNIT_EQ_INT(parse("1000000000001r/d", &l), LGSP_QUOTA_BAD_RATE,
                "beyond the largest refused");
}


static void
test_fixed_window(void)
{
    size_t                 i, passed;
    uint64_t               now;
    lgsp_quota_limit_t     l = { 3, 60, 0 };
    lgsp_quota_counter_t   c = { 0, 0, 0 };
    lgsp_quota_counter_t  *cp = &c;
    lgsp_quota_state_t     s;

    /* 10:00:20 into a minute window */
    now = 1700000000000ULL - 1700000000000ULL % 60000 + 20000;

    passed = 0;

    for (i = 0; i < 5; i++) {
        if (lgsp_quota_take(&l, &cp, &s, 1, now + i) == 0) {
            passed++;
        }
    }

    UNIT_EQ_INT(passed, 3, "exactly the quota passes in a window");
    UNIT_EQ_INT(c.count, 3, "refused requests are not counted");
    UNIT_EQ_INT(lgsp_quota_remaining(&s), 0, "nothing remains");
    UNIT_EQ_INT(s.reset_ms, 40000 - 4, "reset is the window's end");
    UNIT_EQ_INT(lgsp_quota_seconds(s.reset_ms), 40, "reset rounds up");

    UNIT_EQ_INT(lgsp_quota_take(&l, &cp, &s, 1, now + 39999), 1,
                "still refused in the last millisecond");
    UNIT_EQ_INT(lgsp_quota_take(&l, &cp, &s, 1, now + 40000), 0,
                "the next window allows again");
    UNIT_EQ_INT(c.prev, 3, "the window before is remembered");
    UNIT_EQ_INT(lgsp_quota_remaining(&s), 2, "two remain after one");
    UNIT_EQ_INT(s.reset_ms, 60000, "a full window to go");

    UNIT_EQ_INT(lgsp_quota_take(&l, &cp, &s, 1, now + 40000 + 3 * 60000), 0,
                "after idle windows the counter starts over");
    UNIT_EQ_INT(c.prev, 0, "an idle window before counts as unused");
}


static void
test_all_or_nothing(void)
{
    uint64_t               now;
    lgsp_quota_limit_t     l[2] = { { 10, 1, 0 }, { 2, 3600, 0 } };
    lgsp_quota_counter_t   c[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    lgsp_quota_counter_t  *cp[2] = { &c[0], &c[1] };
    lgsp_quota_state_t     s[2];

    now = 3600000ULL * 500000;

    UNIT_EQ_INT(lgsp_quota_take(l, cp, s, 2, now), 0, "1st passes both");
    UNIT_EQ_INT(lgsp_quota_take(l, cp, s, 2, now), 0, "2nd passes both");
    UNIT_EQ_INT(lgsp_quota_take(l, cp, s, 2, now), 2,
                "3rd refused by the hourly limit");
    UNIT_EQ_INT(c[0].count, 2,
                "a refused request consumes nothing from the other window");
    UNIT_EQ_INT(lgsp_quota_remaining(&s[0]), 8, "per-second state reported");
    UNIT_EQ_INT(lgsp_quota_remaining(&s[1]), 0, "hourly state reported");

    l[0].quota = 0;
    UNIT_EQ_INT(lgsp_quota_take(l, cp, s, 2, now + 3600000), 1,
                "a quota of 0 refuses even a fresh window");
    UNIT_EQ_INT(c[1].count, 0, "and the hourly counter is untouched");
}


static void
test_longest_refusal_named(void)
{
    lgsp_quota_limit_t     l[2] = { { 1, 1, 0 }, { 1, 86400, 0 } };
    lgsp_quota_counter_t   c[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    lgsp_quota_counter_t  *cp[2] = { &c[0], &c[1] };
    lgsp_quota_state_t     s[2];

    UNIT_EQ_INT(lgsp_quota_take(l, cp, s, 2, 86400000ULL * 20000), 0,
                "first passes");
    UNIT_EQ_INT(lgsp_quota_take(l, cp, s, 2, 86400000ULL * 20000 + 10), 2,
                "when both refuse, the one that ends last is named");
}


static void
test_burst(void)
{
    size_t                 i, passed;
    uint64_t               now;
    lgsp_quota_limit_t     l = { 5, 60, 2 };
    lgsp_quota_counter_t   c = { 0, 0, 0 };
    lgsp_quota_counter_t  *cp = &c;
    lgsp_quota_state_t     s;

    now = 60000ULL * 30000000;

    for (passed = 0, i = 0; i < 10; i++) {
        passed += lgsp_quota_take(&l, &cp, &s, 1, now) == 0;
    }

    UNIT_EQ_INT(passed, 7, "an idle agency gets quota plus burst");

    for (passed = 0, i = 0; i < 10; i++) {
        passed += lgsp_quota_take(&l, &cp, &s, 1, now + 60000) == 0;
    }

    UNIT_EQ_INT(passed, 5, "after a full window, no burst is left");

    /* 4 of 5 used in the window before: 1 unused to borrow */
    c.window = (int64_t) (now / 60000) + 5;
    c.count = 4;

    for (passed = 0, i = 0; i < 10; i++) {
        passed += lgsp_quota_take(&l, &cp, &s, 1, now + 6 * 60000) == 0;
    }

    UNIT_EQ_INT(passed, 6, "burst is capped by what was left unused");
    UNIT_EQ_INT(s.allowed, 6, "the window's allowance includes the borrow");
}


static void
test_items(void)
{
    char                buf[LGSP_QUOTA_ITEM_LEN];
    size_t              n;
    lgsp_quota_limit_t  l = { 100, 60, 0 };
    lgsp_quota_state_t  s = { 100, 58, 16200 };

    n = lgsp_quota_policy_item(buf, sizeof(buf), "minute", 6, &l);
    UNIT_EQ_STR(buf, "\"minute\";q=100;w=60", "RateLimit-Policy item");
    UNIT_EQ_INT(n, strlen(buf), "policy length returned");

    n = lgsp_quota_status_item(buf, sizeof(buf), "minute", 6, &s);
    UNIT_EQ_STR(buf, "\"minute\";r=42;t=17", "RateLimit item");
    UNIT_EQ_INT(n, strlen(buf), "status length returned");

    n = lgsp_quota_status_item(buf, 8, "minute", 6, &s);
    UNIT_EQ_INT(n, 7, "a short buffer is cut, not overrun");
    UNIT_EQ_STR(buf, "\"minute", "a cut item keeps its start");

    n = lgsp_quota_status_item(buf, 13, "minute", 6, &s);
    UNIT_EQ_STR(buf, "\"minute\";r=4", "a number is cut too");
    UNIT_EQ_INT(n, 12, "cut length returned");

    l.quota = UINT64_MAX;
    l.period = 0;
    n = lgsp_quota_policy_item(buf, sizeof(buf), "day", 3, &l);
    UNIT_EQ_STR(buf, "\"day\";q=18446744073709551615;w=0",
                "the largest and the smallest numbers");
    UNIT_EQ_INT(n, strlen(buf), "their length returned");

    UNIT_EQ_INT(lgsp_quota_seconds(0), 1, "Retry-After is at least 1");
    UNIT_EQ_INT(lgsp_quota_seconds(1001), 2, "seconds round up");
    UNIT_EQ_STR(lgsp_quota_window_name(3600), "hour", "window names");
}


int
main(void)
{
    test_parse_rate();
    test_fixed_window();
    test_all_or_nothing();
    test_longest_refusal_named();
    test_burst();
    test_items();

    return UNIT_DONE("quota");
}
