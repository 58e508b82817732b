using System.CommandLine;
using Flamewright.Server.Configuration;

namespace Flamewright.Cli.Server;

/// <summary><c>flamewright config show</c>: the server's effective settings and where each came from.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var flags = new ServerFlags();
        var show = new Command("show", "Print the server's effective settings and the source of each (secrets masked).");
        foreach (Option option in flags.All)
        {
            show.Options.Add(option);
        }

        show.SetAction(parse =>
        {
            ServerSettings settings;
            try
            {
                settings = flags.Load(parse);
            }
            catch (SettingsException e)
            {
                Console.Error.WriteLine($"flamewright: {e.Message}");
                return ServerCommand.BadSettings;
            }

            Write(settings.Sources, Console.Out);
            return 0;
        });
        return new Command("config", "Inspect the server's configuration.") { show };
    }

    internal static void Write(IReadOnlyList<SettingSource> sources, TextWriter output)
    {
        int name = Math.Max("SETTING".Length, sources.Max(s => s.Name.Length));
        int value = Math.Max("VALUE".Length, sources.Max(s => s.Value.Length));
        output.WriteLine($"{"SETTING".PadRight(name)}  {"VALUE".PadRight(value)}  SOURCE");
        foreach (SettingSource source in sources)
        {
            output.WriteLine($"{source.Name.PadRight(name)}  {source.Value.PadRight(value)}  {source.Source}");
        }
    }
}
