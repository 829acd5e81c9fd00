// SPDX-License-Identifier: Apache-2.0
/* Go's text/tabwriter as kubectl configures it, the string buffer, and `kubectl get` tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/tabwriter.h"

static const struct pp_tabwriter_cfg get_cfg = PP_TABWRITER_KUBECTL_GET;
static const struct pp_tabwriter_cfg describe_cfg = PP_TABWRITER_KUBECTL_DESCRIBE;

static void assert_tab(const struct pp_tabwriter_cfg *cfg, const char *in, const char *want)
{
	struct pp_strbuf b = {0};

	assert_int_equal(pp_tabwriter_format(&b, in, strlen(in), cfg), 0);
	assert_string_equal(b.p ? b.p : "", want);
	assert_int_equal(b.len, strlen(want));
	pp_strbuf_fini(&b);
}

static void test_strbuf_grows_and_terminates(void **state)
{
	struct pp_strbuf b = {0};

	pp_strbuf_adds(&b, "ab");
	pp_strbuf_addc(&b, 'c');
	pp_strbuf_add(&b, "defgh", 2);
	pp_strbuf_addn(&b, '.', 3);
	pp_strbuf_addf(&b, "[%d:%s]", 42, "x");
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p, "abcde...[42:x]");
	assert_int_equal(b.len, 14);
	for (int i = 0; i < 1000; i++)
		pp_strbuf_addf(&b, "%04d", i);
	assert_int_equal(b.len, 14 + 4000);
	assert_memory_equal(b.p + b.len - 8, "09980999", 8);
	assert_int_equal(b.p[b.len], '\0');
	assert_true(b.cap > b.len);
	pp_strbuf_fini(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	pp_strbuf_fini(&b);
	pp_strbuf_fini(NULL);
}

/* A failed allocation sticks: later additions are dropped, the error is seen once. */
static void test_strbuf_error_sticks(void **state)
{
	struct pp_strbuf b = {.err = -ENOMEM};

	pp_strbuf_adds(&b, "lost");
	pp_strbuf_addf(&b, "%s", "lost");
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(pp_tabwriter_format(&b, "a\tb\n", 4, &describe_cfg), -ENOMEM);
	pp_strbuf_fini(&b);
}

static void test_columns_align_to_the_widest_cell(void **state)
{
	/* kubectl get: at least 6 wide, 3 of padding; the last cell is in no column */
	assert_tab(&get_cfg, "a\tbb\tc\nddd\te\tf\n", "a     bb    c\nddd   e     f\n");
	assert_tab(&get_cfg, "NAME\tREADY\nweb-server-1\t1/1\n",
		   "NAME           READY\nweb-server-1   1/1\n");
	/* kubectl describe: no minimum, 2 of padding */
	assert_tab(&describe_cfg, "Name:\tweb\nNamespace:\tdefault\n",
		   "Name:       web\nNamespace:  default\n");
	assert_tab(&describe_cfg, "a\tb\n", "a  b\n");
}

/* Go's utf8.RuneCount: a code point is one, so is each byte of a malformed sequence. */
static void test_widths_count_runes(void **state)
{
	assert_tab(&describe_cfg,
		   "\xc3\xb1"
		   "and\xc3\xba\tx\nab\ty\n",
		   "\xc3\xb1"
		   "and\xc3\xba  x\nab     y\n");
	assert_tab(&describe_cfg, "\xe2\x82\xac\tx\nab\ty\n", "\xe2\x82\xac   x\nab  y\n");
	assert_tab(&describe_cfg, "\xf0\x9f\x99\x82\tx\nab\ty\n", "\xf0\x9f\x99\x82   x\nab  y\n");
	/* a lone continuation byte, a cut sequence, a surrogate, an overlong form */
	assert_tab(&describe_cfg, "\x80\tx\nab\ty\n", "\x80   x\nab  y\n");
	assert_tab(&describe_cfg, "\xe2\x82\tx\nabc\ty\n", "\xe2\x82   x\nabc  y\n");
	assert_tab(&describe_cfg, "\xed\xa0\x80\tx\nab\ty\n", "\xed\xa0\x80  x\nab   y\n");
	assert_tab(&describe_cfg, "\xc0\xaf\tx\nab\ty\n", "\xc0\xaf  x\nab  y\n");
}

static void test_empty_cells_are_padded(void **state)
{
	assert_tab(&describe_cfg, "\tb\tc\nxx\t\tz\n", "    b  c\nxx     z\n");
	assert_tab(&get_cfg, "\t\n", "      \n");
	/* empty last cells: nothing after the padding of the last column */
	assert_tab(&describe_cfg, "a\t\nbbb\t\n", "a    \nbbb  \n");
}

/* A column lasts over consecutive lines that have it; a cell ended by '\t' is in a column. */
static void test_column_blocks_and_trailing_columns(void **state)
{
	assert_tab(&describe_cfg, "a\tb\nxxxxxx\nccc\td\n", "a  b\nxxxxxx\nccc  d\n");
	assert_tab(&describe_cfg, "a\tb\t\nccc\td\t\n", "a    b  \nccc  d  \n");
	/* a longer line opens a nested column only for the lines that have it */
	assert_tab(&describe_cfg, "a\tb\tc\naa\tbbbb\nx\ty\tz\n", "a   b  c\naa  bbbb\nx   y  z\n");
	/* no final newline; no text at all */
	assert_tab(&describe_cfg, "a\tb", "a  b");
	assert_tab(&describe_cfg, "", "");
	/* '\v' ends a cell as '\t' does */
	assert_tab(&describe_cfg, "a\vb\nccc\vd\n", "a    b\nccc  d\n");
}

/* Go's Write: a '\f' ends the line, is written as '\n', and flushes every column. */
static void test_formfeed_flushes(void **state)
{
	assert_tab(&describe_cfg, "a\tb\nxxxx\ty\n", "a     b\nxxxx  y\n");
	assert_tab(&describe_cfg, "a\tb\fxxxx\ty\n", "a  b\nxxxx  y\n");
	assert_tab(&describe_cfg, "a\tb\f", "a  b\n");
}

/* Padding with tabs (Go's package example: minwidth 0, tabwidth 8, padding 0, '\t'). */
static void test_tab_padding_as_go_example(void **state)
{
	static const struct pp_tabwriter_cfg tabs = {0, 8, 0, '\t'};
	static const struct pp_tabwriter_cfg no_width = {0, 0, 1, '\t'};

	assert_tab(&tabs, "a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n",
		   "a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n\n");
	assert_tab(&no_width, "a\tb\n", "ab\n");
}

static json_t *j(const char *s)
{
	char *c = strdup(s);
	json_t *v;

	assert_non_null(c);
	for (char *p = c; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(c, 0, NULL);
	free(c);
	assert_non_null(v);
	return v;
}

/* Priority-1 columns, a row of another namespace, non-ASCII, a cut cell, other types. */
static const char table[] =
	"{'kind':'Table','apiVersion':'meta.k8s.io/v1','metadata':{'resourceVersion':'7'},"
	"'columnDefinitions':[{'name':'Name','type':'string','format':'name','priority':0},"
	"{'name':'Ready','type':'string','priority':0},{'name':'Status','type':'string',"
	"'priority':0},{'name':'Restarts','type':'string','priority':0},{'name':'Age',"
	"'type':'string','priority':0},{'name':'IP','type':'string','priority':1},"
	"{'name':'Node','type':'string','priority':1},{'name':'Nominated Node','type':'string'"
	",'priority':1},{'name':'Readiness Gates','type':'string','priority':1}],"
	"'rows':[{'cells':['web','1/1','Running','0','5m','127.0.0.1','node1','<none>',"
	"'<none>'],'object':{'kind':'PartialObjectMetadata','metadata':{'name':'web',"
	"'namespace':'default'}}},{'cells':['d\xc3\xbao-\xc3\xb1"
	"and\xc3\xba','0/2','CrashLoopBackOff','3 (10s ago)','95s','127.0.0.1','node1',"
	"'<none>','<none>'],'object':{'metadata':{'name':'d\xc3\xbao','namespace':'other-names"
	"pace'}}},{'cells':['multi\\nline','x\\ty',true,12,1.5,'','','',''],'object':{"
	"'metadata':{}}}]}";

static void assert_table(bool wide, bool ns, const char *want)
{
	struct pp_strbuf b = {0};
	json_t *t = j(table);

	assert_int_equal(pp_tabwriter_get_table(&b, t, wide, ns), 3);
	assert_string_equal(b.p, want);
	pp_strbuf_fini(&b);
	json_decref(t);
}

static void test_table_as_kubectl_get_prints_it(void **state)
{
	assert_table(false, false,
		     "NAME        READY   STATUS             RESTARTS      AGE\n"
		     "web         1/1     Running            0             5m\n"
		     "d\xc3\xbao-\xc3\xb1"
		     "and\xc3\xba   0/2     CrashLoopBackOff   3 (10s ago)   95s\n"
		     "multi...    x y     true               12            1.5\n");
	assert_table(
		false, true,
		"NAMESPACE         NAME        READY   STATUS             RESTARTS      AGE\n"
		"default           web         1/1     Running            0             5m\n"
		"other-namespace   d\xc3\xbao-\xc3\xb1"
		"and\xc3\xba   0/2     CrashLoopBackOff   3 (10s ago)   95s\n"
		"                  multi...    x y     true               12            1.5\n");
}

static void test_table_wide_adds_priority_one_columns(void **state)
{
	assert_table(true, false,
		     "NAME        READY   STATUS             RESTARTS      AGE   IP          NODE  "
		     "  NOMINA"
		     "TED NODE   READINESS GATES\n"
		     "web         1/1     Running            0             5m    127.0.0.1   node1 "
		     "  <none>"
		     "           <none>\n"
		     "d\xc3\xbao-\xc3\xb1"
		     "and\xc3\xba   0/2     CrashLoopBackOff   3 (10s ago)   95s   127.0.0.1   "
		     "node1   <non"
		     "e>           <none>\n"
		     "multi...    x y     true               12            1.5                     "
		     "        "
		     "           \n");
	assert_table(true, true,
		     "NAMESPACE         NAME        READY   STATUS             RESTARTS      AGE   "
		     "IP      "
		     "    NODE    NOMINATED NODE   READINESS GATES\n"
		     "default           web         1/1     Running            0             5m    "
		     "127.0.0."
		     "1   node1   <none>           <none>\n"
		     "other-namespace   d\xc3\xbao-\xc3\xb1"
		     "and\xc3\xba   0/2     CrashLoopBackOff   3 (10s ago)   95s   127.0.0.1   "
		     "node1   <non"
		     "e>           <none>\n"
		     "                  multi...    x y     true               12            1.5   "
		     "        "
		     "                             \n");
}

static void test_table_without_rows_or_not_a_table(void **state)
{
	struct pp_strbuf b = {0};
	json_t *empty = j("{'kind':'Table','columnDefinitions':[{'name':'Name'}],'rows':[]}");
	json_t *bad = j("{'kind':'Status','rows':[]}");

	assert_int_equal(pp_tabwriter_get_table(&b, empty, false, false), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(pp_tabwriter_get_table(&b, bad, false, false), -EINVAL);
	assert_int_equal(pp_tabwriter_get_table(&b, NULL, true, true), -EINVAL);
	assert_int_equal(b.len, 0);
	json_decref(empty);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_grows_and_terminates),
		cmocka_unit_test(test_strbuf_error_sticks),
		cmocka_unit_test(test_columns_align_to_the_widest_cell),
		cmocka_unit_test(test_widths_count_runes),
		cmocka_unit_test(test_empty_cells_are_padded),
		cmocka_unit_test(test_column_blocks_and_trailing_columns),
		cmocka_unit_test(test_formfeed_flushes),
		cmocka_unit_test(test_tab_padding_as_go_example),
		cmocka_unit_test(test_table_as_kubectl_get_prints_it),
		cmocka_unit_test(test_table_wide_adds_priority_one_columns),
		cmocka_unit_test(test_table_without_rows_or_not_a_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
