using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Flamewright.Testing;

/// <summary>Serves the files of some folders over HTTP on 127.0.0.1, on a free port, until disposed.</summary>
internal sealed class StaticFileServer : IDisposable
{
    private readonly WebApplication _app;

    public StaticFileServer(params string[] roots)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new CompositeFileProvider(roots.Select(r => new PhysicalFileProvider(r))),
            ServeUnknownFileTypes = true,
        });
        _app.StartAsync().GetAwaiter().GetResult();
        string address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        BaseUrl = address.TrimEnd('/') + "/";
    }

    public string BaseUrl { get; }

    public string Url(string path) => BaseUrl + path;

    public void Dispose()
    {
        _app.StopAsync().Wait(TimeSpan.FromSeconds(10));
        ((IDisposable)_app).Dispose();
    }
}
