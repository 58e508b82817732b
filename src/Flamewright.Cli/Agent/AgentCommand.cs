using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Flamewright.Agent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Flamewright.Cli.Agent;

/// <summary>
/// <c>flamewright agent</c>: runs pprof tasks against a Go service's <c>net/http/pprof</c> endpoints, beside the
/// service, without rebuilding it. Each setting comes from its flag, else <c>FLAMEWRIGHT_AGENT_&lt;FLAG&gt;</c>
/// (e.g. <c>FLAMEWRIGHT_AGENT_TOKEN</c>, the better place for a token than a command line), else the
/// <c>Agent</c> section of appsettings.json in the working directory (e.g. <c>"KeepAlive": "10s"</c>), else its default.
/// </summary>
internal static partial class AgentCommand
{
    /// <summary>Exit code for settings that cannot be used.</summary>
    public const int BadSettings = 2;

    public static Command Create()
    {
        var server = Flag("--server", "Server gRPC addresses, host:port, comma-separated; tried in order.", "127.0.0.1:11800");
        var service = Flag("--service", "Service name (as tasks name it).", null);
        var instance = Flag("--instance", "Instance name.", Environment.MachineName);
        var target = Flag("--target", "The Go service's net/http/pprof base address.", "http://127.0.0.1:6060");
        var token = Flag("--token", "Agent token (gRPC metadata 'authentication'); prefer FLAMEWRIGHT_AGENT_TOKEN.", "");
        var poll = Flag("--poll", "Time between task polls (e.g. 20s, 500ms).", "20s");
        var keepAlive = Flag("--keep-alive", "Time between keepAlive calls.", "10s");
        // Tests only: how long a task's "minute" lasts. Hidden, so that nobody shortens real profiles by accident.
        var taskMinute = new Option<string?>("--test-task-minute") { Hidden = true };
        var command = new Command("agent", "Run pprof tasks from the server against a Go service's net/http/pprof endpoints.")
        {
            server, service, instance, target, token, poll, keepAlive, taskMinute,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var options = new AgentOptions
            {
                Servers = [.. (parse.GetValue(server) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                Service = parse.GetValue(service) ?? "",
                Instance = parse.GetValue(instance) ?? "",
                Token = parse.GetValue(token) ?? "",
            };
            var problems = new List<string>();
            if (Uri.TryCreate(parse.GetValue(target), UriKind.Absolute, out Uri? targetUri))
            {
                options.Target = targetUri;
            }
            else
            {
                problems.Add($"--target '{parse.GetValue(target)}' is not an http:// address");
            }

            options.PollInterval = Duration(parse.GetValue(poll), "--poll", problems);
            options.KeepAliveInterval = Duration(parse.GetValue(keepAlive), "--keep-alive", problems);
            if (parse.GetValue(taskMinute) is { } minute)
            {
                options.TaskMinute = Duration(minute, "--test-task-minute", problems);
            }

            if (problems.Count == 0)
            {
                problems.AddRange(options.Validate());
            }

            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync($"flamewright: {problems[0]}").ConfigureAwait(false);
                return BadSettings;
            }

            using ILoggerFactory loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
            }));
            using var agent = new ProfilingAgent(options, loggers);
            await agent.RunAsync(cancellation).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>The <c>Agent</c> section of appsettings.json in the working directory, when there is one.</summary>
    private static readonly Lazy<IConfigurationSection> s_appSettings = new(() =>
        new ConfigurationBuilder().AddJsonFile(Path.GetFullPath("appsettings.json"), optional: true).Build().GetSection("Agent"));

    private static Option<string?> Flag(string name, string description, string? fallback)
    {
        string setting = string.Concat(name.TrimStart('-').Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
        string variable = "FLAMEWRIGHT_AGENT_" + name.TrimStart('-').Replace('-', '_').ToUpperInvariant();
        return new Option<string?>(name)
        {
            Description = $"{description} (${variable}, appsettings.json Agent:{setting})",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) ?? s_appSettings.Value[setting] ?? fallback,
        };
    }

    /// <summary>Reads <c>20s</c>, <c>500ms</c>, <c>2m</c>.</summary>
    private static TimeSpan Duration(string? text, string flag, List<string> problems)
    {
        Match match = DurationPattern().Match(text ?? "");
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0)
        {
            problems.Add($"{flag} '{text}' is not a duration such as 20s, 500ms or 2m");
            return TimeSpan.Zero;
        }

        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromSeconds(value),
        };
    }

    [GeneratedRegex(@"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)\s*$")]
    private static partial Regex DurationPattern();
}
