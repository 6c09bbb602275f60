import socket, sys, time, os, signal
def rd(s, t=0.4):
    s.settimeout(t); out=b""
    try:
        while True:
            d=s.recv(65536)
            if not d: out+=b"<EOF>"; break
            out+=d
    except socket.timeout: pass
    return out
s=socket.create_connection(("127.0.0.1",16333)); rd(s,0.2)
s.sendall(b'CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"NPEER1","cluster":"C"}\r\nINFO {"server_id":"NPEER1","server_name":"peer1","version":"2.9.10","proto":2,"host":"127.0.0.1","port":5001,"headers":true,"max_payload":1048576,"cluster":"C"}\r\nPING\r\n'); print(rd(s))
os.kill(int(open("c.pid").read()), signal.SIGUSR2)
print(rd(s,1.5))
