/* junit.c: the JUnit XML report of a test run, written with libxml2's xmlwriter, atomically. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>

#include "qq.h"

#define X(s) ((const xmlChar *)(s))

/* Appends the tail of one kept output to an xmlwriter text node. */
static int
write_tail(xmlTextWriterPtr w, const char *label, const char *path, int lines, size_t bytes,
    struct qq_err *e)
{
	struct qq_tail t;
	int rc = 0;

	if (qq_result_tail(path, lines, bytes, &t, e) != 0)
		return -1;
	if (label != NULL && xmlTextWriterWriteFormatString(w, "%s:\n", label) < 0)
		rc = -1;
	if (rc == 0 && (t.omitted > 0 || t.cut) && xmlTextWriterWriteFormatString(w,
	    "[qq: %llu of %llu bytes not shown; the whole output is in %s]\n", t.omitted,
	    t.size, path) < 0)
		rc = -1;
	if (rc == 0 && t.len > 0 && (xmlTextWriterWriteString(w, X(t.text)) < 0 ||
	    xmlTextWriterWriteString(w, X("\n")) < 0))
		rc = -1;
	qq_result_tail_free(&t);
	if (rc != 0)
		qq_err_set(e, QQ_EXIT_RUNTIME, "unable to write the JUnit report");
	return rc;
}

static int
write_case(xmlTextWriterPtr w, const struct qq_junit *j, size_t i, struct qq_err *e)
{
	const struct qq_test_case *c = &j->plan->v[i];
	const struct qq_result *r = &j->results[i];
	char msg[QQ_ERR_MAX], out[QQ_VALUE_MAX * 2], err[QQ_VALUE_MAX * 2], clean[QQ_ERR_MAX * 4];
	const char *elem;

	snprintf(out, sizeof(out), "%s/%s.out", j->resdir, c->stem);
	snprintf(err, sizeof(err), "%s/%s.err", j->resdir, c->stem);
	if (xmlTextWriterStartElement(w, X("testcase")) < 0)
		return -1;
	qq_result_clean(clean, c->name, strnlen(c->name, QQ_ERR_MAX));
	if (xmlTextWriterWriteAttribute(w, X("name"), X(clean)) < 0 ||
	    xmlTextWriterWriteAttribute(w, X("classname"), X(j->suite)) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", r->us / 1e6) < 0)
		return -1;
	/*
	 * A wrong result, a crash and a hang are the test's failures; a test
	 * that could not start is an error (of the build or the image); a test
	 * that did not run is skipped with the reason (the run itself failed).
	 */
	switch (r->outcome) {
	case QQ_OUTCOME_PASSED:
		elem = NULL;
		break;
	case QQ_OUTCOME_NOSTART:
		elem = "error";
		break;
	case QQ_OUTCOME_NOTRUN:
		elem = "skipped";
		break;
	default:
		elem = "failure";
		break;
	}
	if (elem != NULL) {
		qq_result_describe(r, msg, sizeof(msg));
		qq_result_clean(clean, msg, strlen(msg));
		if (xmlTextWriterStartElement(w, X(elem)) < 0 ||
		    xmlTextWriterWriteAttribute(w, X("message"), X(clean)) < 0)
			return -1;
		if (r->outcome != QQ_OUTCOME_NOTRUN &&
		    (xmlTextWriterWriteAttribute(w, X("type"), X(qq_result_name(r->outcome))) < 0 ||
		    xmlTextWriterWriteFormatString(w, "%s\n", clean) < 0 ||
		    write_tail(w, "stdout (last lines)", out, QQ_TAP_TAIL_LINES, QQ_TAP_TAIL_BYTES,
		    e) != 0 ||
		    write_tail(w, "stderr (last lines)", err, QQ_TAP_TAIL_LINES, QQ_TAP_TAIL_BYTES,
		    e) != 0))
			return -1;
		if (xmlTextWriterEndElement(w) < 0)
			return -1;
	}
	if (r->outcome != QQ_OUTCOME_NOTRUN) {
		if (xmlTextWriterStartElement(w, X("system-out")) < 0 ||
		    write_tail(w, NULL, out, INT_MAX, QQ_JUNIT_OUT_BYTES, e) != 0 ||
		    xmlTextWriterEndElement(w) < 0 ||
		    xmlTextWriterStartElement(w, X("system-err")) < 0 ||
		    write_tail(w, NULL, err, INT_MAX, QQ_JUNIT_OUT_BYTES, e) != 0 ||
		    xmlTextWriterEndElement(w) < 0)
			return -1;
	}
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

int
qq_junit_write(const char *path, const struct qq_junit *j, struct qq_err *e)
{
	xmlBufferPtr buf;
	xmlTextWriterPtr w = NULL;
	char stamp[32], host[256];
	size_t i, failures = 0, errors = 0, skipped = 0;
	struct tm tm;
	int rc = -1;

	e->status = 0;
	for (i = 0; i < j->plan->n; i++)
		switch (j->results[i].outcome) {
		case QQ_OUTCOME_PASSED: break;
		case QQ_OUTCOME_NOSTART: errors++; break;
		case QQ_OUTCOME_NOTRUN: skipped++; break;
		default: failures++; break;
		}
	gmtime_r(&j->start, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((buf = xmlBufferCreate()) == NULL)
		return qq_err_set(e, QQ_EXIT_RUNTIME, "unable to write the JUnit report");
	if ((w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		goto out;
	/* The layout Jenkins, GitLab and GitHub reporters read (Ant's JUnit task). */
	if (xmlTextWriterSetIndent(w, 1) < 0 ||
	    xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, X("testsuites")) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("tests"), "%zu", j->plan->n) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("failures"), "%zu", failures) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("errors"), "%zu", errors) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("skipped"), "%zu", skipped) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", j->us / 1e6) < 0 ||
	    xmlTextWriterStartElement(w, X("testsuite")) < 0 ||
	    xmlTextWriterWriteAttribute(w, X("name"), X(j->suite)) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("tests"), "%zu", j->plan->n) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("failures"), "%zu", failures) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("errors"), "%zu", errors) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("skipped"), "%zu", skipped) < 0 ||
	    xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", j->us / 1e6) < 0 ||
	    xmlTextWriterWriteAttribute(w, X("timestamp"), X(stamp)) < 0 ||
	    xmlTextWriterWriteAttribute(w, X("hostname"), X(host)) < 0)
		goto out;
	for (i = 0; i < j->plan->n; i++)
		if (write_case(w, j, i, e) != 0)
			goto out;
	if (xmlTextWriterEndDocument(w) < 0)
		goto out;
	xmlFreeTextWriter(w);	/* flushes into buf */
	w = NULL;
	rc = qq_file_write_atomic(path, xmlBufferContent(buf), (size_t)xmlBufferLength(buf), 0644,
	    e);
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	if (rc < 0 && e->status == 0)
		qq_err_set(e, QQ_EXIT_RUNTIME, "unable to write the JUnit report %s", path);
	return rc < 0 ? e->status : rc;
}
