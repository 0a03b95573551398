package main

import "context"

func runModels(ctx context.Context, e *env, args []string) error { return notYet("models") }
