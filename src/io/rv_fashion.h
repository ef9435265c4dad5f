/* rv_fashion.h - the Fashion-MNIST data set: 28x28 grayscale images of 10 kinds of clothing.
 *
 * Xiao, Rasul and Vollgraf (2017): 60,000 training and 10,000 test images,
 * as four gzip-compressed IDX files (rv_idx.h) in one folder, which
 * Debian's package dataset-fashion-mnist installs in RV_FASHION_DIR:
 *   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
 *   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
 * A split is read strictly: images (count, 28, 28), labels (count), the same
 * count, every label 0..9. Pixels are bytes 0..255; a network sees
 *   x = (pixel / 255 - mean) / std,
 * mean and std those of every pixel of the training set (rv_fashion_stats),
 * whichever split is being converted.
 */
#ifndef RV_FASHION_H
#define RV_FASHION_H

#include <stdint.h>

#include "rv_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RV_FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define RV_FASHION_PACKAGE "dataset-fashion-mnist"
#define RV_FASHION_SIZE 28
#define RV_FASHION_CLASSES 10
/* A program that needs the data and finds none exits with this code. */
#define RV_FASHION_MISSING_EXIT 2

typedef enum { RV_FASHION_TRAIN, RV_FASHION_TEST } rv_fashion_split;

typedef struct {
    int64_t count;
    unsigned char *images; /* (count, 28, 28), row-major, 0..255 */
    unsigned char *labels; /* (count), 0..9 */
} rv_fashion;

/* RV_OK when dir holds the four files; else RV_EIO with a message that
 * names the file missing and the Debian package to install. A program
 * prints it and exits RV_FASHION_MISSING_EXIT. */
rv_status rv_fashion_find(const char *dir);

/* Reads one split from dir; errors name the file (RV_EIO, RV_EFORMAT,
 * RV_ENOMEM). On error *out is empty. */
rv_status rv_fashion_load(const char *dir, rv_fashion_split split, rv_fashion *out);
void rv_fashion_free(rv_fashion *d);

/* Mean and (population) standard deviation of every pixel / 255 of d, in
 * double: the normalisation, computed from the training split. */
void rv_fashion_stats(const rv_fashion *d, double *mean, double *std);

/* x (count, 1, 28, 28), allocated by the caller on the CPU, = images
 * [first, first + count) normalised with mean and std. */
rv_status rv_fashion_images(const rv_fashion *d, int64_t first, double mean, double std,
                            rv_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
