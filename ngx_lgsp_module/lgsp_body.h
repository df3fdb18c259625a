/*
 * Request bodies, the parts that need no nginx: which Content-Type values
 * name JSON or XML, and the "errors" list of a schema violation answer.
 */

#ifndef LGSP_BODY_H
#define LGSP_BODY_H

#include <stddef.h>

#include "lgsp_schema.h"


/*
 * 1 when a Content-Type value names JSON: application/json or
 * application/<anything>+json (RFC 6839), in any case, with parameters;
 * a charset parameter must say UTF-8 (RFC 8259, section 8.1).  0 for any
 * other type and for a value that is not a media type.
 */
int lgsp_body_is_json_type(const char *value, size_t len);

/*
 * 1 when a Content-Type value names XML: text/xml, application/xml or
 * application/<anything>+xml (SOAP 1.2's application/soap+xml), with
 * parameters; a charset parameter must say UTF-8.
 */
int lgsp_body_is_xml_type(const char *value, size_t len);

/*
 * The errors of a validation as a JSON array of {instancePath,
 * schemaPath, keyword, message}; a malloc()ed string, NULL when out of
 * memory or when a text is not UTF-8.
 */
char *lgsp_body_errors_json(const lgsp_schema_errors_t *errors);


#endif /* LGSP_BODY_H */
