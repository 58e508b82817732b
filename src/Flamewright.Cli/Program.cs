using System.CommandLine;
using Flamewright.Cli.Agent;
using Flamewright.Cli.Analyze;
using Flamewright.Cli.Server;
using Flamewright.Cli.Tasks;

var root = new RootCommand("Flamewright: on-demand profiling for Go services, and a fast offline pprof analyser.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(ConfigCommand.Create());
root.Subcommands.Add(AgentCommand.Create());
root.Subcommands.Add(TaskCommands.Create());
root.Subcommands.Add(AnalyzeCommand.Create());
return await root.Parse(args).InvokeAsync();
