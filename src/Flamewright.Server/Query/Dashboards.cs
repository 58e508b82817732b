using System.Text;
using System.Text.Json;
using Flamewright.Server.Configuration;
using Flamewright.Server.Storage;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Query;

/// <summary>
/// What SkyWalking's web UI keeps on the server (docs/skywalking-clients.md): its dashboard templates, stored and shared
/// by every node, and its menu. The templates and the menu this build ships (<c>Query/Dashboards/*.json</c>) give a
/// fresh server a page for its Go services with the pprof widget on each service's dashboard.
/// </summary>
internal sealed partial class Dashboards(IProfilingStore store, ServerOptions options, TimeProvider time, ILogger<Dashboards> logger)
{
    /// <summary>The shipped templates: each file holds one object, <c>{id, configuration}</c>, the configuration as JSON.</summary>
    public static IReadOnlyList<DashboardTemplate> Shipped { get; } =
    [
        ShippedTemplate("general-root.json"),
        ShippedTemplate("general-service.json"),
    ];

    // Declared before Menu, which its initializer reads.
    private static readonly JsonSerializerOptions MenuJson = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The shipped menu: entries with a layer, or with sub-entries.</summary>
    private static readonly IReadOnlyList<MenuEntry> Menu =
        JsonSerializer.Deserialize<List<MenuEntry>>(ShippedText("menu.json"), MenuJson)
        ?? throw new InvalidOperationException("the shipped menu is empty");

    /// <summary>Stores the shipped templates that are not stored yet (a template people changed or disabled stays so).</summary>
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        int added = await store.SeedTemplatesAsync(Shipped, Now, cancellationToken).ConfigureAwait(false);
        if (added > 0)
        {
            LogSeeded(logger, added);
        }
    }

    /// <summary>The menu, each entry activated when its layer has services or one of its sub-entries is activated.</summary>
    public async Task<IReadOnlyList<MenuItemOutput>> MenuAsync(CancellationToken cancellationToken)
    {
        var layers = new HashSet<string>(await store.ListLayersAsync(cancellationToken).ConfigureAwait(false), StringComparer.OrdinalIgnoreCase);
        return [.. Menu.Select(entry => ToOutput(entry, layers))];
    }

    public async Task<TemplateChangeOutput> AddAsync(string configuration, CancellationToken cancellationToken)
    {
        string id = Guid.NewGuid().ToString();
        if (Problem(configuration) is string problem)
        {
            return new TemplateChangeOutput(id, false, problem);
        }

        if (!await store.AddTemplateAsync(id, configuration, options.MaxTemplates, Now, cancellationToken).ConfigureAwait(false))
        {
            return new TemplateChangeOutput(id, false,
                $"{options.MaxTemplates} templates are stored already (MaxTemplates): disable or change one instead");
        }

        LogChanged(logger, id, "added");
        return new TemplateChangeOutput(id, true, null);
    }

    public async Task<TemplateChangeOutput> ChangeAsync(string id, string configuration, CancellationToken cancellationToken)
    {
        if (Problem(configuration) is string problem)
        {
            return new TemplateChangeOutput(id, false, problem);
        }

        if (!await store.ChangeTemplateAsync(id, configuration, Now, cancellationToken).ConfigureAwait(false))
        {
            return new TemplateChangeOutput(id, false, Unknown(id));
        }

        LogChanged(logger, id, "changed");
        return new TemplateChangeOutput(id, true, null);
    }

    public async Task<TemplateChangeOutput> DisableAsync(string id, CancellationToken cancellationToken)
    {
        if (!await store.DisableTemplateAsync(id, Now, cancellationToken).ConfigureAwait(false))
        {
            return new TemplateChangeOutput(id, false, Unknown(id));
        }

        LogChanged(logger, id, "disabled");
        return new TemplateChangeOutput(id, true, null);
    }

    /// <summary>Why a configuration is not stored: larger than <see cref="ServerOptions.MaxTemplateBytes"/>, or not a JSON object.</summary>
    private string? Problem(string configuration)
    {
        int bytes = Encoding.UTF8.GetByteCount(configuration);
        if (bytes > options.MaxTemplateBytes)
        {
            return $"the configuration is {bytes} bytes, more than MaxTemplateBytes ({options.MaxTemplateBytes})";
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(configuration);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? null
                : $"the configuration is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not a dashboard object";
        }
        catch (JsonException e)
        {
            return $"the configuration is not JSON: {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    private static string Unknown(string id) => $"no template {id} (or it is disabled)";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static MenuItemOutput ToOutput(MenuEntry entry, HashSet<string> layers)
    {
        MenuItemOutput[] subItems = [.. (entry.SubItems ?? []).Select(s => ToOutput(s, layers))];
        bool activate = subItems.Length > 0 ? subItems.Any(s => s.Activate) : string.IsNullOrEmpty(entry.Layer) || layers.Contains(entry.Layer);
        return new MenuItemOutput(entry.Title, entry.Icon, entry.Layer ?? "", activate, subItems, entry.Description, entry.DocumentLink, entry.I18nKey);
    }

    private static DashboardTemplate ShippedTemplate(string file)
    {
        using JsonDocument document = JsonDocument.Parse(ShippedText(file));
        return new DashboardTemplate(
            document.RootElement.GetProperty("id").GetString() ?? throw new InvalidOperationException($"{file} has no id"),
            JsonSerializer.Serialize(document.RootElement.GetProperty("configuration")));
    }

    private static string ShippedText(string file)
    {
        using Stream stream = typeof(Dashboards).Assembly.GetManifestResourceStream("Flamewright.Server.dashboards/" + file)
            ?? throw new InvalidOperationException($"{file} is not embedded in this build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private sealed record MenuEntry(
        string Title, string? Icon, string? Layer, string? Description, string? DocumentLink, string? I18nKey, List<MenuEntry>? SubItems);

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Stored {Count} shipped dashboard template(s) of the web UI")]
    private static partial void LogSeeded(ILogger logger, int count);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Dashboard template {Id} {Change}")]
    private static partial void LogChanged(ILogger logger, string id, string change);
}
