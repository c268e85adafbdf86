#!/usr/bin/env ruby
# frozen_string_literal: true

# The Celery docs' Ruby on Rails multiply webhook, as a single-file Rails app served by
# Puma. Debian's ruby-rails (6.1) and puma are loaded directly: no Gemfile, no Bundler,
# nothing fetched.
#
#   serve.rb [--host 127.0.0.1] [--port 0] [--port-file PATH] [--parent-pid N]
#
# --port 0 picks a free port; --port-file gets it written atomically (PATH.tmp, then
# renamed), otherwise it is printed on stdout. --parent-pid N: exit once process N is gone
# (polled every 0.5 s). SIGTERM/SIGINT exit promptly.

require "optparse"

options = { host: "127.0.0.1", port: 0 }
OptionParser.new do |opts|
  opts.banner = "usage: serve.rb [--host H] [--port N] [--port-file PATH] [--parent-pid N]"
  opts.on("--host HOST") { |v| options[:host] = v }
  opts.on("--port N", Integer) { |v| options[:port] = v }
  opts.on("--port-file PATH") { |v| options[:port_file] = v }
  opts.on("--parent-pid N", Integer) { |v| options[:parent_pid] = v }
end.parse!

# Production mode: no code reloading, no file watcher, no development-only host checks.
ENV["RAILS_ENV"] ||= "production"

require "logger"
require "action_controller/railtie"
require "puma"
require "puma/events"
require "puma/server"

class WebhookApp < Rails::Application
  config.load_defaults 6.1
  config.root = __dir__
  config.eager_load = false # everything is in this file
  config.secret_key_base = ENV.fetch("SECRET_KEY_BASE", "http_task-example-not-secret")
  # Errors only, on stderr: nothing is written under config.root (no log/, no tmp/).
  config.logger = Logger.new($stderr, level: Logger::ERROR)
  config.log_level = :error
  config.public_file_server.enabled = false
  # Only ever served on 127.0.0.1; any Host header is fine.
  config.hosts.clear
end

# Routes and controller come after initialize!: initializing clears routes drawn before
# it, and ActionController::Base takes the app's configuration (forgery protection
# defaults among it) when it is first loaded.
WebhookApp.initialize!

WebhookApp.routes.draw do
  # Rails routing ignores a trailing slash: "/multiply/" matches too, no redirect.
  %w[multiply echo_args large].each do |action|
    match action, to: "webhooks##{action}", via: %i[get post]
  end
  # Not an action named "fail": that would hide Kernel#fail inside the controller.
  match "fail", to: "webhooks#moon_failure", via: %i[get post]
end


class WebhooksController < ActionController::Base
  # Webhook callers have no CSRF token: without this, POSTs get 422
  # (ActionController::InvalidAuthenticityToken).
  skip_forgery_protection

  MOON_REASON = "Invalid moon alignment: ☾ ≠ ☀ (🌙)"
  MAX_LARGE = 64 * 1024 * 1024

  # The docs' action, with bad input answered as a failure instead of 0:
  #   @x = params[:x].to_i; @y = params[:y].to_i
  #   render :json => {:status => "success", :retval => @x * @y}
  def multiply
    args = call_args
    x, reason = integer_argument(args, "x")
    y, reason = integer_argument(args, "y") if reason.nil?
    return failure(reason) if reason

    success(x * y)
  end

  def echo_args
    success(call_args)
  end

  def moon_failure
    failure(MOON_REASON)
  end

  def large
    n, reason = integer_argument(call_args, "n")
    return failure(reason) if reason
    return failure("argument n is out of range") if n.negative? || n > MAX_LARGE

    success(("0123456789" * (n / 10 + 1))[0, n])
  end

  private

  # The call's arguments as http_task sends them: the query for GET, the form body for
  # POST. Not `params`, which mixes query, body and routing keys (controller, action).
  def call_args
    request.get? ? request.query_parameters : request.request_parameters
  end

  def integer_argument(args, name)
    raw = args[name]
    return [nil, "missing argument #{name}"] if raw.nil?
    return [nil, "argument #{name} is not an integer"] unless raw.is_a?(String) && raw.match?(/\A[+-]?\d+\z/)

    [Integer(raw, 10), nil]
  end

  def success(retval)
    render json: { status: "success", retval: retval }
  end

  def failure(reason)
    render json: { status: "failure", reason: reason }
  end
end


def write_port_file(path, port)
  tmp = "#{path}.tmp"
  File.write(tmp, "#{port}\n")
  File.rename(tmp, path)
end

def parent_alive?(pid, original_ppid)
  # Reparenting also means the parent died (it may linger as a zombie).
  return false if pid == original_ppid && Process.ppid != original_ppid

  Process.kill(0, pid)
  true
rescue Errno::ESRCH
  false
rescue Errno::EPERM
  true
end

events = Puma::Events.new($stderr, $stderr)
server = Puma::Server.new(WebhookApp, events, min_threads: 0, max_threads: 16)
listener = server.add_tcp_listener(options[:host], options[:port])
port = listener.addr[1]

# Signals only write to a pipe (a trap handler may not take locks); the main thread waits
# on it, waking every 0.5 s to check the parent.
wake_reader, wake_writer = IO.pipe
%w[TERM INT].each { |sig| Signal.trap(sig) { wake_writer.write_nonblock("x", exception: false) } }

server.run
if options[:port_file]
  write_port_file(options[:port_file], port)
else
  puts port
  $stdout.flush
end

original_ppid = Process.ppid
loop do
  break if IO.select([wake_reader], nil, nil, 0.5)
  break if options[:parent_pid] && !parent_alive?(options[:parent_pid], original_ppid)
end
server.stop(true)
