/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML 1.2 core schema's scalar typing (yaml.org/spec/1.2.2 §10.3.2), pure: shared by the
 * manifest reader and the YAML-to-JSON conversion, so a file and an API body read the same.
 */
#ifndef PODPROBE_YAML_SCALAR_H
#define PODPROBE_YAML_SCALAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "podprobe/yaml_scalar-t.h"

/*
 * The type of scalar <text> (<len> bytes, NUL-terminated) with tag <tag> (NULL, "!" or a
 * tag:yaml.org,2002: name), written plain (<plain>) or quoted: quoted and !!str scalars are
 * strings, so is any with a NUL inside; the others resolve by their text.
 */
enum pp_yaml_type pp_yaml_resolve(const char *tag, bool plain, const char *text, size_t len);

/* The type a plain scalar's text resolves to: null, bool, int, float or string. */
enum pp_yaml_type pp_yaml_resolve_plain(const char *s);

/* An int of the core schema ([-+]?[0-9]+, 0o.., 0x..) into <ret>; false when out of range. */
bool pp_yaml_parse_int(const char *s, int64_t *ret);

/*
 * [-+]?0[0-7]+ as Go's strconv.ParseInt(s, 0, 64) reads it (octal), into *<ret>: how go-yaml v2
 * (sigs.k8s.io/yaml) types a plain integer with a leading 0 ("defaultMode: 0644" is 420).
 * False for anything else or an overflow.
 */
bool pp_yaml_parse_go_octal(const char *s, int64_t *ret);

/* True for the float spellings JSON has no value for: [-+]?.inf and .nan. */
bool pp_yaml_float_special(const char *s);

/*
 * A YAML 1.1 bool spelling (y, yes, on, true, n, no, off, false, in three casings) as go-yaml
 * v2 resolves plain scalars (sigs.k8s.io/yaml): the value into *<ret>, or false.
 */
bool pp_yaml_bool11(const char *s, bool *ret);

/*
 * A float that is a whole number in int64_t range ("30.0", "1e3") into *<ret>: go-yaml
 * makes it a float64, JSON writes it as 30, and an integer field takes it. False otherwise.
 */
bool pp_yaml_float_int(const char *s, int64_t *ret);

#endif
