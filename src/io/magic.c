/* magic.c - what a file is, from its first bytes (see rv_magic.h).
 *
 * The kinds are those a user of these tools is likely to pass by mistake:
 * the other format of the pair (weights for activations and back), what
 * PyTorch's torch.save writes (a zip archive, or a bare pickle before
 * PyTorch 1.6), Keras's HDF5, an image, a compressed file, plain text.
 */
#include <stdint.h>
#include <string.h>

#include "rv_magic.h"
#include "rv_safetensors.h"

static int looks_like_safetensors(const unsigned char *d, size_t len, uint64_t file_size)
{
    if (len < 10 || file_size < len) return 0;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | d[i];
    return hlen >= 2 && hlen <= RV_SAFETENSORS_MAX_HEADER && hlen <= file_size - 8 && d[8] == '{';
}

/* The first bytes are all printable ASCII or white space (a CSV, a JSON, a
 * script): binary formats have a zero or a high byte within their first 64. */
static int looks_like_text(const unsigned char *d, size_t len)
{
    size_t n = len < RV_FILE_KIND_BYTES ? len : RV_FILE_KIND_BYTES;
    for (size_t i = 0; i < n; i++)
        if (!((d[i] >= 0x20 && d[i] < 0x7f) || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
            return 0;
    return n > 0;
}

const char *rv_file_kind(const unsigned char *d, size_t len, uint64_t file_size)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *kind;
    } known[] = {
        {"\x93NUMPY", 6, "a NumPy .npy array"},
        {"PK\x03\x04", 4, "a zip archive (PyTorch's torch.save writes one: .pt, .pth)"},
        {"\x89HDF\r\n\x1a\n", 8, "an HDF5 file (Keras's .h5)"},
        {"\x89PNG\r\n\x1a\n", 8, "a PNG image"},
        {"\xff\xd8\xff", 3, "a JPEG image"},
        {"\x1f\x8b", 2, "a gzip-compressed file"},
    };
    /* first: the two-byte gzip magic could also open a valid header length */
    if (looks_like_safetensors(d, len, file_size)) return "a safetensors file";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (len >= known[i].len && memcmp(d, known[i].magic, known[i].len) == 0)
            return known[i].kind;
    /* pickle protocol 2 to 5 opens with PROTO (0x80) and its number */
    if (len >= 2 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5)
        return "a Python pickle (older PyTorch's torch.save writes one: .pt, .pth)";
    if (looks_like_text(d, len)) return "a text file";
    return NULL;
}
