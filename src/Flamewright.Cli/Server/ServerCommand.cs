using System.CommandLine;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;

namespace Flamewright.Cli.Server;

/// <summary><c>flamewright server</c>: runs the profiling server until Ctrl+C or SIGTERM.</summary>
internal static class ServerCommand
{
    /// <summary>Exit code for settings that cannot be used or ports that cannot be bound.</summary>
    public const int BadSettings = 2;

    public static Command Create()
    {
        var flags = new ServerFlags();
        var command = new Command("server", "Run the profiling server: agents on gRPC 11800, GraphQL and REST on HTTP 12800, SQLite in ./data (or a shared PostgreSQL: --storage postgresql).");
        foreach (Option option in flags.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellation) =>
        {
            ServerSettings settings;
            try
            {
                settings = flags.Load(parse);
            }
            catch (SettingsException e)
            {
                await Console.Error.WriteLineAsync($"flamewright: {e.Message}").ConfigureAwait(false);
                return BadSettings;
            }

            return await RunAsync(settings, cancellation).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServerSettings settings, CancellationToken cancellation)
    {
        try
        {
            await using FlamewrightServer server = FlamewrightServer.Create(settings);
            server.LimitManagedHeap();
            await server.StartAsync(cancellation).ConfigureAwait(false);
            await server.WaitForShutdownAsync(cancellation).ConfigureAwait(false);
            return 0;
        }
        catch (SettingsException e)
        {
            await Console.Error.WriteLineAsync($"flamewright: {e.Message}").ConfigureAwait(false);
            return BadSettings;
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync($"flamewright: cannot listen: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return BadSettings;
        }
    }
}
