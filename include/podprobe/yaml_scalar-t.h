/* SPDX-License-Identifier: Apache-2.0 */
/* Types of plain-scalar resolution under the YAML 1.2 core schema (user/core/yaml_scalar.c). */
#ifndef PODPROBE_YAML_SCALAR_T_H
#define PODPROBE_YAML_SCALAR_T_H

enum pp_yaml_type {
	PP_YAML_STR = 0,
	PP_YAML_NULL,
	PP_YAML_BOOL,
	PP_YAML_INT,
	PP_YAML_FLOAT,
	_PP_YAML_MAX,
};

#endif
