// Command roofline estimates LLM inference performance from first principles and checks
// its estimates against live servers. Run "roofline help" for the subcommands.
//
// This package parses flags and renders. Each printed number comes from a package whose
// documentation gives its formula and units ("go doc roofline/PACKAGE", then the function):
//
//	estimate, memory, step   report (NewEstimate, NewMemory, NewStep) on estimator (Deployment.Predict, .Memory, .StepTime)
//	sweep, plan              report (NewSweep, NewPlan) on estimator (Sweep, Planner.GPU)
//	calibrate                estimator (Calibrate, CrossValidate)
//	accuracy                 validation (Evaluate, Summarise, Intervals)
//	compare, validate        validation (NewComparisonReport, CompareMetrics, Judge)
//	bench, import            bench (Run, Summarize, Import)
//	sweep --run              sweeprun (Run, ModelPredictor)
//	serve-sim                bench/simserver (Serve)
//	models, gpus             models (Describe), hardware (WriteGPU)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"roofline/estimator"
)

func main() {
	// Ctrl-C and SIGTERM (timeout, a job scheduler, sweep --run stopping a server) end the
	// context: a bench keeps its records, sweep --run stops the server group it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	err := run(ctx, e, os.Args[1:])
	os.Exit(exitCode(e, err))
}

// env is all process state a command may touch; tests build their own.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// exitError carries an exit status with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks bad input: exit status 2.
func usageErr(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// asUsage wraps err as bad input (exit 2) unless it already carries a code.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: 2, err: err}
}

// exitCode prints err (one line) and returns the process exit status.
func exitCode(e *env, err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	code := 1
	if errors.As(err, &ee) {
		code = ee.code
	} else if estimator.IsRefused(err) {
		code = 2 // bad input: the engine would refuse the deployment or the requests
	}
	if !errors.Is(err, errHelpShown) {
		fmt.Fprintf(e.stderr, "roofline: %v\n", err)
	} else {
		code = 0
	}
	return code
}
