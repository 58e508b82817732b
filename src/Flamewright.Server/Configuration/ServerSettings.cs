using System.Collections;
using System.Globalization;
using System.Reflection;
using Flamewright.Server.Storage.Postgres;
using Microsoft.Extensions.Configuration;

namespace Flamewright.Server.Configuration;

/// <summary>One effective setting and where its value came from, as <c>flamewright config show</c> prints it.</summary>
public sealed record SettingSource(string Name, string Value, string Source);

/// <summary>
/// The server's settings resolved from every layer, lowest first: defaults, appsettings.json,
/// <c>FLAMEWRIGHT_SERVER__*</c> variables, SkyWalking's <c>SW_*</c> variables, flags.
/// </summary>
public sealed class ServerSettings
{
    /// <summary>Prefix of the environment variables that address any setting (<c>FLAMEWRIGHT_SERVER__DATADIR</c>).</summary>
    public const string EnvironmentPrefix = "FLAMEWRIGHT_";

    /// <summary>Settings whose values are secrets: shown only as set or not set.</summary>
    private static readonly HashSet<string> s_secrets = [nameof(ServerOptions.Authentication), nameof(ServerOptions.DataSourcePassword), nameof(ServerOptions.ApiToken), nameof(ServerOptions.ReadOnlyApiToken)];

    private ServerSettings(ServerOptions options, IConfigurationRoot configuration, IReadOnlyList<SettingSource> sources)
    {
        Options = options;
        Configuration = configuration;
        Sources = sources;
    }

    public ServerOptions Options { get; }

    /// <summary>All configuration, for the host (logging levels and the like).</summary>
    public IConfigurationRoot Configuration { get; }

    /// <summary>Every setting with its effective value (secrets masked) and source.</summary>
    public IReadOnlyList<SettingSource> Sources { get; }

    /// <summary>Resolves the settings.</summary>
    /// <param name="flags">Values given as flags: setting name → (value, flag as typed).</param>
    /// <param name="configFile">An appsettings file; <c>null</c> reads <c>appsettings.json</c> in the working directory when present.</param>
    /// <param name="environment">The environment variables; <c>null</c> reads the process's.</param>
    /// <exception cref="SettingsException">A value does not convert or the settings are unusable.</exception>
    public static ServerSettings Load(
        IReadOnlyDictionary<string, (string Value, string Flag)>? flags = null,
        string? configFile = null,
        IDictionary? environment = null)
    {
        flags ??= new Dictionary<string, (string, string)>();
        environment ??= Environment.GetEnvironmentVariables();
        if (configFile is not null && !File.Exists(configFile))
        {
            throw new SettingsException($"configuration file not found: {configFile}");
        }

        string jsonPath = Path.GetFullPath(configFile ?? "appsettings.json");
        var prefixed = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var prefixedNames = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var skyWalking = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var skyWalkingNames = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            string name = (string)entry.Key;
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                string key = name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal);
                prefixed[key] = (string?)entry.Value;
                prefixedNames[key] = name;
            }
        }

        foreach ((string variable, string setting) in SkyWalkingEnvironment.Names)
        {
            if (environment[variable] is string value)
            {
                skyWalking[$"{ServerOptions.Section}:{setting}"] = value;
                skyWalkingNames[$"{ServerOptions.Section}:{setting}"] = variable;
            }
        }

        var flagValues = flags.ToDictionary(f => $"{ServerOptions.Section}:{f.Key}", f => (string?)f.Value.Value, StringComparer.OrdinalIgnoreCase);
        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(jsonPath, optional: true, reloadOnChange: false)
                .AddInMemoryCollection(prefixed)
                .AddInMemoryCollection(skyWalking)
                .AddInMemoryCollection(flagValues)
                .Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
        {
            throw new SettingsException($"{jsonPath}: {OneLine(e)}", e);
        }

        var options = new ServerOptions();
        var sources = new List<SettingSource>();
        IConfigurationSection section = configuration.GetSection(ServerOptions.Section);
        foreach (PropertyInfo property in typeof(ServerOptions).GetProperties().Where(p => p.CanWrite))
        {
            string key = $"{ServerOptions.Section}:{property.Name}";
            string? raw = section[property.Name];
            if (raw is not null)
            {
                property.SetValue(options, Convert(property, raw, key));
            }

            string source = DescribeSource(configuration, key, jsonPath, prefixedNames, skyWalkingNames, flags, property.Name);
            string shown = s_secrets.Contains(property.Name)
                ? (string.IsNullOrEmpty((string?)property.GetValue(options)) ? "(not set)" : "(set)")
                : property.Name switch
                {
                    // Connection strings show everything but their passwords.
                    nameof(ServerOptions.PostgresConnectionString) => PostgresConnection.Masked(options.PostgresConnectionString),
                    nameof(ServerOptions.JdbcUrl) => PostgresConnection.MaskedJdbcUrl(options.JdbcUrl),
                    _ => null,
                } ?? property.GetValue(options) switch
                {
                    bool b => b ? "true" : "false",
                    object value => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
                    null => "",
                };
            sources.Add(new SettingSource(property.Name, shown, source));
        }

        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new SettingsException(string.Join("; ", problems));
        }

        return new ServerSettings(options, configuration, sources);
    }

    private static object Convert(PropertyInfo property, string raw, string key)
    {
        Type type = property.PropertyType;
        try
        {
            if (type == typeof(string))
            {
                return raw;
            }

            if (type == typeof(bool))
            {
                return bool.Parse(raw.Trim());
            }

            return System.Convert.ChangeType(raw.Trim(), type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            string expected = type == typeof(bool) ? "true or false" : "a whole number";
            throw new SettingsException($"{key}: '{raw}' is not {expected}", e);
        }
    }

    private static string DescribeSource(
        IConfigurationRoot configuration, string key, string jsonPath,
        Dictionary<string, string> prefixedNames, Dictionary<string, string> skyWalkingNames,
        IReadOnlyDictionary<string, (string Value, string Flag)> flags, string name)
    {
        // Providers are in the order added; the last one holding the key wins, as in configuration itself.
        IConfigurationProvider[] providers = [.. configuration.Providers];
        for (int i = providers.Length - 1; i >= 0; i--)
        {
            if (!providers[i].TryGet(key, out _))
            {
                continue;
            }

            return i switch
            {
                0 => $"file {jsonPath}",
                1 => $"environment {prefixedNames[key]}",
                2 => $"environment {skyWalkingNames[key]}",
                _ => $"flag {flags[name].Flag}",
            };
        }

        return "default";
    }

    private static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");
}

/// <summary>Settings that cannot be used; the message is one line naming the setting.</summary>
public sealed class SettingsException : Exception
{
    public SettingsException(string message)
        : base(message)
    {
    }

    public SettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SettingsException()
    {
    }
}
