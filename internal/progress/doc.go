// Package progress reports a long command's advance on stderr: on a terminal, a bar with
// done/total, elapsed time, rate (items/s) and ETA (github.com/schollz/progressbar/v3);
// otherwise (CI logs, pipes) one plain line every PlainInterval (5 s); when quiet, nothing.
// ETA = (total − done) ÷ rate, rate = done ÷ elapsed seconds. One Bar serves bench,
// validate, accuracy, sweep and sweep --run; Log interleaves a bar per task with event lines.
package progress
