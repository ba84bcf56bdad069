package main

func cmdGraph(env *cliEnv, args []string) int {
	return exitUsage
}
