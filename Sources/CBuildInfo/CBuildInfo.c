#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "CBuildInfo.h"
#if defined(__linux__)
#include <elf.h>
#include <link.h>
#include <string.h>

struct search {
    unsigned char *out;
    size_t capacity;
    size_t length;
};

// Notes are 4-byte aligned in executables (the linker writes NT_GNU_BUILD_ID that way).
static size_t align4(size_t n) { return (n + 3) & ~(size_t)3; }

static int visit(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct search *search = data;
    // The first object dl_iterate_phdr reports is the main program.
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_NOTE) continue;
        const unsigned char *note = (const unsigned char *)(info->dlpi_addr + header->p_vaddr);
        const unsigned char *end = note + header->p_memsz;
        while (note + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nhdr = (const ElfW(Nhdr) *)note;
            const unsigned char *name = note + sizeof(ElfW(Nhdr));
            const unsigned char *desc = name + align4(nhdr->n_namesz);
            const unsigned char *next = desc + align4(nhdr->n_descsz);
            if (next > end || next <= note) break;
            if (nhdr->n_type == NT_GNU_BUILD_ID && nhdr->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                size_t n = nhdr->n_descsz < search->capacity ? nhdr->n_descsz : search->capacity;
                memcpy(search->out, desc, n);
                search->length = n;
                return 1;
            }
            note = next;
        }
    }
    return 1;  // only the main program
}

size_t octopus_build_id(unsigned char *out, size_t capacity) {
    struct search search = {out, capacity, 0};
    dl_iterate_phdr(visit, &search);
    return search.length;
}
#else
size_t octopus_build_id(unsigned char *out, size_t capacity) {
    (void)out;
    (void)capacity;
    return 0;
}
#endif
