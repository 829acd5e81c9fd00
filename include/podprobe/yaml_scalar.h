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

/* True for the float spellings JSON has no value for: [-+]?.inf and .nan. */
bool pp_yaml_float_special(const char *s);

#endif
