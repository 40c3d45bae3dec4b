/* sbx-oci: the OCI runtime command line (docs/oci.md). */
#include <stdio.h>
#include <string.h>
#include "sbx.h"

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
		printf("sbx-oci version %s\nspec: 1.0.2\n", SBX_VERSION);
		return 0;
	}
	fprintf(stderr, "sbx-oci: not built yet\n");
	return 125;
}
