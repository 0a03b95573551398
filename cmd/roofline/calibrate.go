package main

import "context"

func runCalibrate(ctx context.Context, e *env, args []string) error { return notYet("calibrate") }
