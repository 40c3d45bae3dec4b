/* File descriptor helpers usable between clone and exec. */
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/fdutil.h"

static void close_between(unsigned lo, unsigned hi)
{
	if (lo <= hi)
		syscall(SYS_close_range, lo, hi, 0);
}

void sbx_close_all_except(const int *keep, size_t n)
{
	/* Sort the kept fds (tiny n, insertion sort, no allocation). */
	int k[16];
	size_t m = 0;
	for (size_t i = 0; i < n && m < 16; i++) {
		if (keep[i] < 3)
			continue;
		size_t j = m++;
		while (j > 0 && k[j - 1] > keep[i]) {
			k[j] = k[j - 1];
			j--;
		}
		k[j] = keep[i];
	}
	unsigned lo = 3;
	for (size_t i = 0; i < m; i++) {
		if ((unsigned)k[i] >= lo) {
			if ((unsigned)k[i] > lo)
				close_between(lo, (unsigned)k[i] - 1);
			lo = (unsigned)k[i] + 1;
		}
	}
	close_between(lo, ~0U);
}

void *sbx_map(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}
