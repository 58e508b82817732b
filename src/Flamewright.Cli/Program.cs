using System.CommandLine;
using Flamewright.Cli.Analyze;

var root = new RootCommand("Flamewright: on-demand profiling for Go services, and a fast offline pprof analyser.");
root.Subcommands.Add(AnalyzeCommand.Create());
return root.Parse(args).Invoke();
