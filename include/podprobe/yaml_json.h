/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML to JSON, as the API server reads a YAML request body (sigs.k8s.io/yaml YAMLToJSON):
 * one document of a YAML stream becomes a jansson value. Uses libyaml (user/io/yaml_json.c).
 */
#ifndef PODPROBE_YAML_JSON_H
#define PODPROBE_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Bounds on the output, aliases expanded (a "billion laughs" document is refused). */
#define PP_YAML_JSON_MAX_NODES	 (1u << 18) /* values, keys not counted */
#define PP_YAML_JSON_MAX_BYTES	 (4u << 20) /* bytes of scalar text and keys */
#define PP_YAML_JSON_MAX_DEPTH	 64	    /* nested mappings and sequences */
#define PP_YAML_JSON_MAX_ANCHORS 1024	    /* anchors per document */

/*
 * Convert document <doc_index> (0-based) of the YAML stream <buf> (<len> bytes, UTF-8/16 as
 * libyaml reads it) to JSON: mappings become objects, sequences arrays, and scalars are typed
 * with the YAML 1.2 core schema, as the manifest reader types them: plain "", "~", "null",
 * "Null", "NULL" are null; true/false (also True, TRUE, False, FALSE) booleans; [-+]?[0-9]+,
 * 0x.. and 0o.. integers (a decimal integer past int64 becomes a real); [-+]?(.5|1|1.|1.5)
 * with an optional exponent reals; anything else, and every quoted or !!str-tagged scalar, a
 * string. Mapping keys must be scalars and become strings (null "null", booleans "true" and
 * "false", integers in decimal, others as written); a repeated key is refused. Aliases are
 * copied in full, charged to the bounds above.
 * Returns 0 with *<ret> (the caller owns it), -ENOENT when the stream has no such document,
 * -EINVAL for malformed YAML (a message with line and column in <err>, which may be NULL),
 * -E2BIG when a bound is passed, or -ENOMEM. *<ret> is written only on success.
 */
int pp_yaml_to_json(const char *buf, size_t len, unsigned int doc_index, json_t **ret, char *err,
		    size_t err_size);

#endif /* PODPROBE_YAML_JSON_H */
