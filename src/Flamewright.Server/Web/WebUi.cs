using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flamewright.Server.Web;

/// <summary>
/// The web UI: plain HTML, CSS and JavaScript modules embedded in this assembly (Web/wwwroot), served at
/// <c>/</c> and <c>/ui/…</c>. No build step and nothing fetched from the internet; the pages talk to
/// <c>/graphql</c> and the REST downloads like any other client.
/// </summary>
public static class WebUi
{
    private const string ResourcePrefix = "Flamewright.Server.web/";

    private static readonly Dictionary<string, string> s_contentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>The paths of every page file as the page asks for them: <c>/</c> for index.html, <c>/ui/VERSION/NAME</c> for the others.</summary>
    internal static IEnumerable<string> Paths =>
        s_embedded.Value.Keys
            .Select(file => file == "index.html" ? "/" : $"/ui/{Version}/{file}")
            .Order(StringComparer.Ordinal);

    /// <summary>Every page file's bytes as embedded, by name, read once.</summary>
    private static readonly Lazy<IReadOnlyDictionary<string, byte[]>> s_embedded = new(() =>
        typeof(WebUi).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToDictionary(name => name[ResourcePrefix.Length..], name =>
            {
                using Stream stream = typeof(WebUi).Assembly.GetManifestResourceStream(name)!;
                using var bytes = new MemoryStream();
                stream.CopyTo(bytes);
                return bytes.ToArray();
            }, StringComparer.Ordinal));

    /// <summary>
    /// A name for this build's set of page files, made from all their bytes: the page asks for its files under
    /// <c>/ui/VERSION/</c>, and those answers may be kept by the browser for good, as another build has another name.
    /// </summary>
    internal static string Version => s_version.Value;

    private static readonly Lazy<string> s_version = new(() =>
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach ((string name, byte[] bytes) in s_embedded.Value.OrderBy(file => file.Key, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(ResourcePrefix + name + "\n"));
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    });

    /// <param name="tokenAsked">
    /// Whether the server asks for an API token. index.html says so in <c>meta name="flamewright-token"</c>: without
    /// one, the page's first request does not read the browser's storage for a token, a read that takes tens of
    /// milliseconds on a page's first use of it (docs/ui.md, under firstlook.js).
    /// </param>
    internal static IEndpointRouteBuilder MapWebUi(this IEndpointRouteBuilder endpoints, bool tokenAsked)
    {
        // Made on the first request, not at start.
        Lazy<PageFile> index = s_index[tokenAsked ? 1 : 0];
        PageFile? Page(string file) => file == "index.html" ? index.Value : s_pages.Value.GetValueOrDefault(file);
        endpoints.MapGet("/", context => ServeAsync(context, index.Value, keep: false));
        // Unversioned: each asked again with its tag (a bookmark or a tool that knows the old paths).
        endpoints.MapGet("/ui/{file}", (HttpContext context, string file) => ServeAsync(context, Page(file), keep: false));
        // Versioned, as index.html names them: kept by the browser without asking again, unless the name is of another
        // build (a page loaded before an upgrade), which gets today's file to be asked for again.
        endpoints.MapGet("/ui/{version}/{file}", (HttpContext context, string version, string file) =>
            ServeAsync(context, Page(file), keep: version.Equals(Version, StringComparison.Ordinal)));
        return endpoints;
    }

    /// <summary>A page file: its bytes and an entity tag made from them.</summary>
    private sealed record PageFile(byte[] Content, string ContentType, string ETag)
    {
        public static PageFile Of(byte[] content, string contentType) =>
            new(content, contentType, $"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content))[..32]}\"");
    }

    /// <summary>
    /// Every embedded file of a type the UI serves, by name: only these are served, no paths, no probing. index.html is
    /// served as <see cref="s_index"/> makes it.
    /// </summary>
    private static readonly Lazy<IReadOnlyDictionary<string, PageFile>> s_pages = new(() =>
        s_embedded.Value
            .Where(file => s_contentTypes.ContainsKey(Path.GetExtension(file.Key)))
            .ToDictionary(file => file.Key, file => PageFile.Of(file.Value, s_contentTypes[Path.GetExtension(file.Key)]), StringComparer.Ordinal));

    /// <summary>
    /// index.html for a server that asks for no API token, then for one that does: it names its files under this build's
    /// version (see <see cref="Version"/>) and says which in <c>meta name="flamewright-token"</c>.
    /// </summary>
    private static readonly Lazy<PageFile>[] s_index = [new(() => IndexPage(tokenAsked: false)), new(() => IndexPage(tokenAsked: true))];

    private static PageFile IndexPage(bool tokenAsked)
    {
        string html = System.Text.Encoding.UTF8.GetString(s_embedded.Value["index.html"]).Replace("\"/ui/", $"\"/ui/{Version}/", StringComparison.Ordinal);
        if (tokenAsked)
        {
            html = html.Replace("<meta name=\"flamewright-token\" content=\"none\">", "<meta name=\"flamewright-token\" content=\"asked\">", StringComparison.Ordinal);
        }

        return PageFile.Of(System.Text.Encoding.UTF8.GetBytes(html), s_contentTypes[".html"]);
    }

    private static async Task ServeAsync(HttpContext context, PageFile? page, bool keep)
    {
        if (page is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        // A versioned file never changes under its name: the browser keeps it a year without asking, and a reload uses
        // it as kept. The others are "no-cache": the browser asks each time (a new server version is seen at once) and an
        // unchanged file is answered "not modified", so it keeps its copy and the scripts it has already compiled.
        context.Response.Headers.CacheControl = keep ? "public, max-age=31536000, immutable" : "no-cache";
        context.Response.Headers.ETag = page.ETag;
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'";
        // frame-ancestors for browsers that read CSP, X-Frame-Options for those that do not: no other site may frame
        // the UI and trick a click on it.
        context.Response.Headers["X-Frame-Options"] = "DENY";
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Tag.Equals(page.ETag, StringComparison.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = page.ContentType;
        context.Response.ContentLength = page.Content.Length;
        await context.Response.Body.WriteAsync(page.Content, context.RequestAborted).ConfigureAwait(false);
    }
}
